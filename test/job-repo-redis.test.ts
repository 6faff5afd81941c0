// JobRepo contract against the Redis adapter, on a real Redis.
import t from 'tap';
import { Redis } from 'ioredis';
import { RedisJobRepo } from '../src/matching/redis-job-repo.js';
import type { FinishedRetention } from '../src/matching/job-repo.js';
import { jobRepoContract } from './contract/job-repo-contract.js';
import { redisSkip, stopTestRedis, testPrefix, testRedisUrl } from './helpers/redis.js';

const skip = await redisSkip();
if (skip) t.test('JobRepo contract on Redis', { skip }, async () => {});
else {
  const url = (await testRedisUrl())!;
  const conns: Redis[] = [];
  t.teardown(async () => {
    for (const c of conns) c.disconnect();
    await stopTestRedis();
  });
  const prefixes = new Map<RedisJobRepo, string>();
  const open = (prefix: string, retention?: Partial<FinishedRetention>): RedisJobRepo => {
    const r = new Redis(url);
    conns.push(r);
    const repo = new RedisJobRepo(r, prefix, { retention });
    prefixes.set(repo, prefix);
    return repo;
  };
  jobRepoContract(t, 'redis', async (retention) => open(testPrefix(), retention), {
    // Another node (or this one restarted) on the same keys.
    reopen: async (closed) => open(prefixes.get(closed as RedisJobRepo)!),
  });
}
