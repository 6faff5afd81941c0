// FleetMirror contract against the Redis adapter (GEO + hash + pub/sub batches), nodes sharing a real Redis.
import t from 'tap';
import { Redis } from 'ioredis';
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
}
