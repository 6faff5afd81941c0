// EtaStateStore contract through Redis Sentinel (primary + replica + 3 Sentinels).
import t from 'tap';
import { redisConnection } from '../src/bus/redis-connection.js';
import type { RedisClient } from '../src/bus/redis-connection.js';
import { RedisEtaStateStore } from '../src/eta/redis-eta-state-store.js';
import { createLogger } from '../src/observability/logger.js';
import { etaStateStoreContract } from './contract/eta-state-store-contract.js';
import { testPrefix } from './helpers/redis.js';
import { SentinelSetup } from './helpers/redis-sentinel.js';

const skip = SentinelSetup.skip();
if (skip) t.test('EtaStateStore contract through Sentinel', { skip }, async () => {});
else {
  const setup = await SentinelSetup.start();
  const logger = createLogger('silent');
  const conns: RedisClient[] = [];
  t.teardown(async () => {
    for (const c of conns) c.disconnect();
    await setup.destroy();
  });
  const prefixes = new Map<RedisEtaStateStore, string>();
  const open = (prefix: string, node = 'n1'): RedisEtaStateStore => {
    const r = redisConnection(setup.target, logger, 'main');
    conns.push(r);
    const s = new RedisEtaStateStore(r, prefix, node);
    prefixes.set(s, prefix);
    return s;
  };
  etaStateStoreContract(t, 'sentinel store', async () => open(testPrefix()), {
    reopen: async (closed) => open(prefixes.get(closed as RedisEtaStateStore)!, 'n2'),
  });
}
