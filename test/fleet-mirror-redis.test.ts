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
  const buses = new Map<MirrorNode, RedisBus>();
  const node = async (prefix: string, serves?: (city: string) => boolean): Promise<MirrorNode> => {
    const fleet = newFleet();
    let sent = 0;
    const bus = new RedisBus(conn(), conn(), prefix);
    const mirror = new RedisFleetMirror({
      redis: conn(), bus, fleet, logger: createLogger('silent'),
      metrics: { observeLag: () => {}, sent: (n) => void (sent += n), received: () => {} },
      prefix, nodeId: `node${nodes++}`, tickMs: TICK_MS, expireMs: EXPIRE_MS, serves,
    });
    await mirror.start();
    const n: MirrorNode = { fleet, mirror, sent: () => sent };
    prefixes.set(n, prefix);
    buses.set(n, bus);
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

  t.test('a node serving one city receives nothing of the other: not loaded, not subscribed (no message reaches it)', async (t) => {
    const p = testPrefix();
    const all = await node(p);
    const now = Date.now();
    all.fleet.update('early-east', 0.5, 1.5, now, NaN, NaN);
    await new Promise((r) => setTimeout(r, 3 * TICK_MS));
    const westOnly = await node(p, (city) => city === 'west');
    t.equal(westOnly.fleet.city('east')!.size, 0, 'the east driver stored before it started is not loaded');
    const received = buses.get(westOnly)!.stats.received;
    for (let i = 0; i < 20; i++) all.fleet.update(`e${i}`, 0.5, 1.5, now + i, NaN, NaN);
    all.fleet.update('w1', 0.5, 0.5, now, NaN, NaN);
    const end = Date.now() + 3000;
    while (westOnly.fleet.city('west')!.slotOf('w1') < 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    t.ok(westOnly.fleet.city('west')!.slotOf('w1') >= 0, 'the west driver arrives');
    await new Promise((r) => setTimeout(r, 3 * TICK_MS));
    t.equal(westOnly.fleet.city('east')!.size, 0, 'no east driver');
    t.equal(buses.get(westOnly)!.stats.received - received, 1, 'one message: the west batch; the east batches never reached this node');
    await all.mirror.stop();
    await westOnly.mirror.stop();
  });
}
