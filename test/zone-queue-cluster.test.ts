// ZoneQueue contract on a real 3-primary Redis Cluster (a city's queues in its slot).
import t from 'tap';
import { redisConnection } from '../src/bus/redis-connection.js';
import type { RedisClient } from '../src/bus/redis-connection.js';
import { RedisZoneQueue } from '../src/matching/redis-zone-queue.js';
import { createLogger } from '../src/observability/logger.js';
import { zoneQueueContract } from './contract/zone-queue-contract.js';
import { testPrefix } from './helpers/redis.js';
import { RedisClusterSetup } from './helpers/redis-cluster.js';

const skip = RedisClusterSetup.skip();
if (skip) t.test('ZoneQueue contract on Redis Cluster', { skip }, async () => {});
else {
  const setup = await RedisClusterSetup.start();
  const conns: RedisClient[] = [];
  t.teardown(async () => {
    for (const c of conns) c.disconnect();
    await setup.destroy();
  });
  const logger = createLogger('silent');
  const prefixes = new Map<RedisZoneQueue, string>();
  const open = (prefix: string): RedisZoneQueue => {
    const r = redisConnection(setup.target, logger, 'main');
    conns.push(r);
    const q = new RedisZoneQueue(r, prefix);
    prefixes.set(q, prefix);
    return q;
  };
  zoneQueueContract(t, 'cluster', async () => open(testPrefix()), { reopen: async (q) => open(prefixes.get(q as RedisZoneQueue)!) });
}
