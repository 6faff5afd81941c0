// Lease contract against Redis (SET NX PX, renew and release by token in Lua), two connections as two nodes.
import t from 'tap';
import { Redis } from 'ioredis';
import { RedisLease } from '../src/bus/redis-lease.js';
import { leaseContract } from './contract/lease-contract.js';
import { redisSkip, stopTestRedis, testPrefix, testRedisUrl } from './helpers/redis.js';

const skip = await redisSkip();
if (skip) t.test('Lease contract on Redis', { skip }, async () => {});
else {
  const url = (await testRedisUrl())!;
  const conns: Redis[] = [];
  t.teardown(async () => {
    for (const c of conns) c.disconnect();
    await stopTestRedis();
  });
  leaseContract(t, 'redis lease', async () => {
    const p = testPrefix();
    const a = new Redis(url);
    const b = new Redis(url);
    conns.push(a, b);
    return [new RedisLease(a, p), new RedisLease(b, p)];
  });
}
