// NodeRegistry contract against the Redis adapter, on a real Redis.
import t from 'tap';
import { Redis } from 'ioredis';
import { RedisNodeRegistry } from '../src/bus/redis-node-registry.js';
import { nodeRegistryContract } from './contract/node-registry-contract.js';
import { redisSkip, stopTestRedis, testPrefix, testRedisUrl } from './helpers/redis.js';

const skip = await redisSkip();
if (skip) t.test('NodeRegistry contract on Redis', { skip }, async () => {});
else {
  const url = (await testRedisUrl())!;
  const conns: Redis[] = [];
  t.teardown(async () => {
    for (const c of conns) c.disconnect();
    await stopTestRedis();
  });
  const base = testPrefix();
  nodeRegistryContract(t, 'redis', async (ttlMs, space) => {
    const r = new Redis(url);
    conns.push(r);
    return new RedisNodeRegistry(r, `${base}${space}:`, ttlMs);
  });
}
