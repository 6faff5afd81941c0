// FleetMirror contract through Redis Sentinel (primary + replica + 3 Sentinels): GEO + hash + pub/sub batches.
import t from 'tap';
import { RedisBus } from '../src/bus/redis-bus.js';
import { redisConnection } from '../src/bus/redis-connection.js';
import type { RedisClient } from '../src/bus/redis-connection.js';
import { RedisFleetMirror } from '../src/fleet/redis-fleet-mirror.js';
import { createLogger } from '../src/observability/logger.js';
import { fleetMirrorContract, newFleet } from './contract/fleet-mirror-contract.js';
import type { MirrorNode } from './contract/fleet-mirror-contract.js';
import { testPrefix } from './helpers/redis.js';
import { SentinelSetup } from './helpers/redis-sentinel.js';

const TICK_MS = 100;
const EXPIRE_MS = 60_000;

const skip = SentinelSetup.skip();
if (skip) t.test('FleetMirror contract through Sentinel', { skip }, async () => {});
else {
  const setup = await SentinelSetup.start();
  const logger = createLogger('silent');
  const conns: RedisClient[] = [];
  const conn = (name: string, blocking = false): RedisClient => {
    const r = redisConnection(setup.target, logger, name, blocking);
    conns.push(r);
    return r;
  };
  t.teardown(async () => {
    for (const c of conns) c.disconnect();
    await setup.destroy();
  });
  const prefixes = new Map<MirrorNode, string>();
  let nodes = 0;
  const node = async (prefix: string): Promise<MirrorNode> => {
    const fleet = newFleet();
    let sent = 0;
    const mirror = new RedisFleetMirror({
      redis: conn('main'), bus: new RedisBus(conn('main'), conn('sub', true), prefix), fleet, logger,
      metrics: { observeLag: () => {}, sent: (n) => void (sent += n), received: () => {} },
      prefix, nodeId: `node${nodes++}`, tickMs: TICK_MS, expireMs: EXPIRE_MS,
    });
    await mirror.start();
    const n: MirrorNode = { fleet, mirror, sent: () => sent };
    prefixes.set(n, prefix);
    return n;
  };
  fleetMirrorContract(t, 'sentinel mirror', async () => {
    const p = testPrefix();
    return [await node(p), await node(p)];
  }, { crossNode: true, tickMs: TICK_MS, expireMs: EXPIRE_MS, join: (of) => node(prefixes.get(of)!) });
}
