// JobRepo contract on a real 3-primary Redis Cluster: every job's keys in its city's slot, claims found by driver across cities.
import t from 'tap';
import { redisConnection } from '../src/bus/redis-connection.js';
import type { RedisClient } from '../src/bus/redis-connection.js';
import type { FinishedRetention } from '../src/matching/job-repo.js';
import { RedisJobRepo } from '../src/matching/redis-job-repo.js';
import { createLogger } from '../src/observability/logger.js';
import { RedisKeys, hashSlot } from '../src/storage/redis-keys.js';
import { jobRepoContract } from './contract/job-repo-contract.js';
import { testPrefix } from './helpers/redis.js';
import { RedisClusterSetup } from './helpers/redis-cluster.js';

const skip = RedisClusterSetup.skip();
if (skip) t.test('JobRepo contract on Redis Cluster', { skip }, async () => {});
else {
  const setup = await RedisClusterSetup.start();
  const conns: RedisClient[] = [];
  t.teardown(async () => {
    for (const c of conns) c.disconnect();
    await setup.destroy();
  });
  const logger = createLogger('silent');
  const prefixes = new Map<RedisJobRepo, string>();
  const open = (prefix: string, retention?: Partial<FinishedRetention>): RedisJobRepo => {
    const r = redisConnection(setup.target, logger, 'jobs');
    conns.push(r);
    const repo = new RedisJobRepo(r, prefix, { retention });
    prefixes.set(repo, prefix);
    return repo;
  };
  jobRepoContract(t, 'cluster', async (retention) => open(testPrefix(), retention), {
    reopen: async (closed) => open(prefixes.get(closed as RedisJobRepo)!),
    legacyIds: false,
  });

  t.test('cluster: a city\'s job keys share one slot; the contract\'s cities spread over the primaries', async (t) => {
    const k = new RedisKeys('tw:');
    const id = 'porto.abcdefghijklmnop';
    const slot = hashSlot(k.job(id));
    for (const key of [k.held('porto'), k.done('porto'), k.seq('porto'), k.riderOpen('porto', 'r1'), k.driverOffer('porto', 'd1'), k.driverActive('porto', 'd1'), k.fleet('geo', 'porto'), k.eta('porto')]) {
      t.equal(hashSlot(key), slot, key);
    }
    t.not(hashSlot(k.job('lisbon.abcdefghijklmnop')), slot, 'another city: another slot');
    t.equal(hashSlot('foo'), 12182, 'the CRC16 of Redis Cluster (CLUSTER KEYSLOT foo)');
    t.equal(hashSlot('{user1000}.following'), hashSlot('{user1000}.followers'));
    const ports = new Set(await Promise.all(['world', 'porto', 'lisbon', 'dublin', 'madrid', 'london'].map((c) => setup.portOfSlot(hashSlot(k.held(c))))));
    t.ok(ports.size >= 2, `six cities land on ${ports.size} primaries`);
  });
}
