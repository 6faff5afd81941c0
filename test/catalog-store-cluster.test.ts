// CatalogStore contract on a real 3-primary Redis Cluster (the catalog's keys share the tag {catalog}: one slot, one script).
import t from 'tap';
import { redisConnection } from '../src/bus/redis-connection.js';
import type { RedisClient } from '../src/bus/redis-connection.js';
import { createLogger } from '../src/observability/logger.js';
import { RedisCatalogStore } from '../src/storage/redis-catalog-store.js';
import type { CatalogStore } from '../src/storage/catalog-store.js';
import { catalogStoreContract } from './contract/catalog-store-contract.js';
import { testPrefix } from './helpers/redis.js';
import { RedisClusterSetup } from './helpers/redis-cluster.js';

const SMALL_HISTORY = 5;

const skip = RedisClusterSetup.skip();
if (skip) t.test('CatalogStore contract on Redis Cluster', { skip }, async () => {});
else {
  const setup = await RedisClusterSetup.start();
  const logger = createLogger('silent');
  const conns: RedisClient[] = [];
  t.teardown(async () => {
    for (const c of conns) c.disconnect();
    await setup.destroy();
  });
  const prefixes = new Map<CatalogStore, string>();
  const make = (prefix: string, small = false): CatalogStore => {
    const r = redisConnection(setup.target, logger, 'catalog');
    conns.push(r);
    const s = new RedisCatalogStore(r, prefix, small ? SMALL_HISTORY : undefined);
    prefixes.set(s, prefix);
    return s;
  };
  catalogStoreContract(t, 'cluster', async (small) => make(testPrefix(), small), {
    reopen: async (closed) => make(prefixes.get(closed)!),
    smallHistory: SMALL_HISTORY,
  });
}
