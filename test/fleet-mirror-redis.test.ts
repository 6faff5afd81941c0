// FleetMirror contract against the Redis adapter (GEO + hash + pub/sub batches), nodes sharing a real Redis.
import t from 'tap';
import { RedisKeys, fleetChannel } from '../src/storage/redis-keys.js';
import { Redis } from 'ioredis';
import { Packr } from 'msgpackr';
import { RedisBus } from '../src/bus/redis-bus.js';
import { RedisFleetMirror } from '../src/fleet/redis-fleet-mirror.js';
import { createLogger } from '../src/observability/logger.js';
import { fleetMirrorContract, newFleet } from './contract/fleet-mirror-contract.js';
import type { MirrorNode } from './contract/fleet-mirror-contract.js';
import { redisSkip, stopTestRedis, testPrefix, testRedisUrl } from './helpers/redis.js';

const TICK_MS = 100;
const EXPIRE_MS = 60_000;

const skip = await redisSkip();
if (skip) t.test('FleetMirror contract on Redis', { skip }, async () => {});
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
  const prefixes = new Map<MirrorNode, string>();
  let nodes = 0;
  const node = async (prefix: string): Promise<MirrorNode> => {
    const fleet = newFleet();
    let sent = 0;
    const mirror = new RedisFleetMirror({
      redis: conn(), bus: new RedisBus(conn(), conn(), prefix), fleet, logger: createLogger('silent'),
      metrics: { observeLag: () => {}, sent: (n) => void (sent += n), received: () => {} },
      prefix, nodeId: `node${nodes++}`, tickMs: TICK_MS, expireMs: EXPIRE_MS,
    });
    await mirror.start();
    const n: MirrorNode = { fleet, mirror, sent: () => sent };
    prefixes.set(n, prefix);
    return n;
  };
  fleetMirrorContract(t, 'redis mirror', async () => {
    const p = testPrefix();
    return [await node(p), await node(p)];
  }, { crossNode: true, tickMs: TICK_MS, expireMs: EXPIRE_MS, join: (of) => node(prefixes.get(of)!) });

  t.test('state written by a node of the version before products (no products field) means the default product', async (t) => {
    const p = testPrefix();
    const now = Date.now();
    // A hash value of six fields, as older nodes write it.
    await conn().hset(new RedisKeys(p).fleet('pos', 'west'), 'old1', `0.5,0.5,${now},1,NaN,NaN`);
    const b = await node(p);
    const west = b.fleet.city('west')!;
    t.equal(west.products[west.slotOf('old1')], west.offered.defaultBits, 'loaded with the default product');
    // A batch without `p`, as older nodes publish it.
    const oldBus = new RedisBus(conn(), conn(), p);
    oldBus.publish(fleetChannel('west'), new Packr({ useRecords: false }).pack({ n: 'old-node', at: now, d: ['old2', 0.6, 0.6, now, 1, NaN, NaN] }));
    const end = Date.now() + 3000;
    while (west.slotOf('old2') < 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    t.equal(west.products[west.slotOf('old2')], west.offered.defaultBits, 'received with the default product');
    await b.mirror.stop();
  });
}
