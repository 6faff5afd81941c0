// CatalogStore contract against the Redis adapter, on a real Redis (another instance on the same prefix is another node).
import t from 'tap';
import { Redis } from 'ioredis';
import { RedisCatalogStore } from '../src/storage/redis-catalog-store.js';
import type { CatalogStore } from '../src/storage/catalog-store.js';
import { catalogStoreContract } from './contract/catalog-store-contract.js';
import { redisSkip, stopTestRedis, testPrefix, testRedisUrl } from './helpers/redis.js';

const SMALL_HISTORY = 5;
const skip = await redisSkip();
if (skip) t.test('CatalogStore contract on Redis', { skip }, async () => {});
else {
  const url = (await testRedisUrl())!;
  const conns: Redis[] = [];
  t.teardown(async () => {
    for (const c of conns) c.disconnect();
    await stopTestRedis();
  });
  const prefixes = new Map<CatalogStore, string>();
  const make = (prefix: string, small = false): CatalogStore => {
    const r = new Redis(url);
    conns.push(r);
    const s = new RedisCatalogStore(r, prefix, small ? SMALL_HISTORY : undefined);
    prefixes.set(s, prefix);
    return s;
  };
  catalogStoreContract(t, 'redis', async (small) => make(testPrefix(), small), {
    reopen: async (closed) => make(prefixes.get(closed)!),
    smallHistory: SMALL_HISTORY,
  });
}
