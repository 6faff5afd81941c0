// ZoneQueue contract against the Redis adapter on a real Redis, and its key layout (one hash tag per city).
import t from 'tap';
import { Redis } from 'ioredis';
import { RedisZoneQueue, zoneQueueKeys } from '../src/matching/redis-zone-queue.js';
import { zoneQueueContract } from './contract/zone-queue-contract.js';
import { redisSkip, stopTestRedis, testPrefix, testRedisUrl } from './helpers/redis.js';

t.test('keys: every key of a queue carries its city as the hash tag', async (t) => {
  t.same(zoneQueueKeys('tw:', { city: 'nice', zone: 'nce-t1' }), ['tw:{nice}zq:nce-t1', 'tw:{nice}zq:nce-t1:seq', 'tw:{nice}zq:nce-t1:at']);
});

const skip = await redisSkip();
if (skip) t.test('ZoneQueue contract on Redis', { skip }, async () => {});
else {
  const url = (await testRedisUrl())!;
  const conns: Redis[] = [];
  t.teardown(async () => {
    for (const c of conns) c.disconnect();
    await stopTestRedis();
  });
  const prefixes = new Map<RedisZoneQueue, string>();
  const open = (prefix: string): RedisZoneQueue => {
    const r = new Redis(url);
    conns.push(r);
    const q = new RedisZoneQueue(r, prefix);
    prefixes.set(q, prefix);
    return q;
  };
  zoneQueueContract(t, 'redis', async () => open(testPrefix()), { reopen: async (q) => open(prefixes.get(q as RedisZoneQueue)!) });

  t.test('redis: an emptied queue leaves no key behind', async (t) => {
    const prefix = testPrefix();
    const zq = open(prefix);
    const q = { city: 'nice', zone: 'gc' };
    await zq.join(q, 'a', 1, 10);
    await zq.join(q, 'b', 1, 10);
    t.equal((await conns[0]!.keys(`${prefix}*`)).length, 3);
    await zq.leave(q, 'a');
    await zq.leave(q, 'b');
    t.same(await conns[0]!.keys(`${prefix}*`), []);
  });
}
