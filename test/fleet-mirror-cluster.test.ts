// FleetMirror contract on a real 3-primary Redis Cluster: a city's GEO + hash + seen keys in its slot, batches over sharded pub/sub.
import t from 'tap';
import { RedisBus } from '../src/bus/redis-bus.js';
import { redisConnection } from '../src/bus/redis-connection.js';
import type { RedisClient } from '../src/bus/redis-connection.js';
import { RedisFleetMirror } from '../src/fleet/redis-fleet-mirror.js';
import { createLogger } from '../src/observability/logger.js';
import { fleetMirrorContract, newFleet } from './contract/fleet-mirror-contract.js';
import type { MirrorNode } from './contract/fleet-mirror-contract.js';
import { testPrefix } from './helpers/redis.js';
import { RedisClusterSetup } from './helpers/redis-cluster.js';

const TICK_MS = 100;
const EXPIRE_MS = 60_000;

const skip = RedisClusterSetup.skip();
if (skip) t.test('FleetMirror contract on Redis Cluster', { skip }, async () => {});
else {
  const setup = await RedisClusterSetup.start();
  const logger = createLogger('silent');
  const conns: RedisClient[] = [];
  const conn = (name: string, blocking = false, sharded = false): RedisClient => {
    const r = redisConnection(setup.target, logger, name, blocking, sharded);
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
      redis: conn('main'), bus: new RedisBus(conn('main'), conn('sub', true, true), prefix, true), fleet, logger,
      metrics: { observeLag: () => {}, sent: (n) => void (sent += n), received: () => {} },
      prefix, nodeId: `node${nodes++}`, tickMs: TICK_MS, expireMs: EXPIRE_MS,
    });
    await mirror.start();
    const n: MirrorNode = { fleet, mirror, sent: () => sent };
    prefixes.set(n, prefix);
    return n;
  };
  fleetMirrorContract(t, 'cluster mirror', async () => {
    const p = testPrefix();
    return [await node(p), await node(p)];
  }, { crossNode: true, tickMs: TICK_MS, expireMs: EXPIRE_MS, join: (of) => node(prefixes.get(of)!) });
}
