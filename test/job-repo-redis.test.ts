// JobRepo contract against the Redis adapter, on a real Redis.
import t from 'tap';
import { Redis } from 'ioredis';
import { RedisJobRepo } from '../src/matching/redis-job-repo.js';
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
  jobRepoContract(t, 'redis', async () => {
    const r = new Redis(url);
    conns.push(r);
    return new RedisJobRepo(r, testPrefix());
  });
}
