// ZoneQueue contract through Redis Sentinel (primary + replica + 3 Sentinels), and a queue surviving a failover.
import t from 'tap';
import { redisConnection } from '../src/bus/redis-connection.js';
import type { RedisClient } from '../src/bus/redis-connection.js';
import { RedisZoneQueue } from '../src/matching/redis-zone-queue.js';
import { createLogger } from '../src/observability/logger.js';
import { zoneQueueContract } from './contract/zone-queue-contract.js';
import { testPrefix } from './helpers/redis.js';
import { SentinelSetup } from './helpers/redis-sentinel.js';

const skip = SentinelSetup.skip();
if (skip) t.test('ZoneQueue contract through Sentinel', { skip }, async () => {});
else {
  const setup = await SentinelSetup.start();
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
  zoneQueueContract(t, 'sentinel', async () => open(testPrefix()), { reopen: async (q) => open(prefixes.get(q as RedisZoneQueue)!) });

  t.test('sentinel: a replicated queue is whole, in order, on the new primary after SIGKILL of the old one', async (t) => {
    const zq = open(testPrefix());
    const q = { city: 'nice', zone: 'failover' };
    for (let i = 0; i < 20; i++) await zq.join(q, `d${i}`, i, 100);
    await conns.at(-1)!.wait(1, 1000);
    const { ms } = await setup.killPrimaryAndWaitFailover();
    t.comment(`failover seen after ${ms} ms`);
    const after = await zq.list(q, 0, 100);
    t.same(after.members.map((m) => m.driver), Array.from({ length: 20 }, (_, i) => `d${i}`));
    t.same(await zq.join(q, 'd0', 99, 100), { position: 1, length: 20, added: false, full: false }, 'the first keeps its place');
  });
}
