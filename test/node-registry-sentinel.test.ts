// NodeRegistry contract through Redis Sentinel (primary + replica + 3 Sentinels).
import t from 'tap';
import { redisConnection } from '../src/bus/redis-connection.js';
import type { RedisClient } from '../src/bus/redis-connection.js';
import { RedisNodeRegistry } from '../src/bus/redis-node-registry.js';
import { createLogger } from '../src/observability/logger.js';
import { nodeRegistryContract } from './contract/node-registry-contract.js';
import { testPrefix } from './helpers/redis.js';
import { SentinelSetup } from './helpers/redis-sentinel.js';

const skip = SentinelSetup.skip();
if (skip) t.test('NodeRegistry contract through Sentinel', { skip }, async () => {});
else {
  const setup = await SentinelSetup.start();
  const logger = createLogger('silent');
  const conns: RedisClient[] = [];
  t.teardown(async () => {
    for (const c of conns) c.disconnect();
    await setup.destroy();
  });
  const base = testPrefix();
  nodeRegistryContract(t, 'sentinel', async (ttlMs, space) => {
    const r = redisConnection(setup.target, logger, 'nodes');
    conns.push(r);
    return new RedisNodeRegistry(r, `${base}${space}:`, ttlMs);
  });
}
