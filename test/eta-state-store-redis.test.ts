// EtaStateStore contract against the Redis adapter of cluster mode, plus its one-writer lease.
import t from 'tap';
import { Redis } from 'ioredis';
import { RedisEtaStateStore } from '../src/eta/redis-eta-state-store.js';
import { etaStateStoreContract } from './contract/eta-state-store-contract.js';
import { redisSkip, stopTestRedis, testPrefix, testRedisUrl } from './helpers/redis.js';

const skip = await redisSkip();
if (skip) t.test('EtaStateStore contract on Redis', { skip }, async () => {});
else {
  const url = (await testRedisUrl())!;
  const conns: Redis[] = [];
  const conn = (): Redis => {
    const r = new Redis(url);
    conns.push(r);
    return r;
  };
  t.teardown(async () => {
    for (const c of conns) c.disconnect();
    await stopTestRedis();
  });
  const prefixes = new Map<RedisEtaStateStore, string>();
  const open = (prefix: string, node = 'n1'): RedisEtaStateStore => {
    const s = new RedisEtaStateStore(conn(), prefix, node);
    prefixes.set(s, prefix);
    return s;
  };
  etaStateStoreContract(t, 'redis store', async () => open(testPrefix()), {
    reopen: async (closed) => open(prefixes.get(closed as RedisEtaStateStore)!, 'n2'),
  });

  t.test('redis store: one writer per cluster, the lease holder keeps it', async (t) => {
    const p = testPrefix();
    const a = open(p, 'a');
    const b = open(p, 'b');
    t.equal(await a.isWriter(), true, 'the first node takes the lease');
    t.equal(await b.isWriter(), false, 'a second node does not');
    t.equal(await a.isWriter(), true, 'the holder renews it');
    t.equal(await b.isWriter(), false);
  });
}
