// Starting the Redis fleet mirror adds its local-change listener beside the others (it used to replace the fleet's only slot).
import t from 'tap';
import { Redis } from 'ioredis';
import { RedisBus } from '../src/bus/redis-bus.js';
import { FleetRegistry } from '../src/fleet/fleet-registry.js';
import { RedisFleetMirror } from '../src/fleet/redis-fleet-mirror.js';
import { createLogger } from '../src/observability/logger.js';
import { redisSkip, stopTestRedis, testPrefix, testRedisUrl } from './helpers/redis.js';

const skip = await redisSkip();
if (skip) t.test('fleet mirror listeners', { skip }, async () => {});
else {
  const url = (await testRedisUrl())!;
  const conns: Redis[] = [];
  const conn = (sub = false): Redis => {
    const r = new Redis(url, sub ? { maxRetriesPerRequest: null } : {});
    conns.push(r);
    return r;
  };
  t.teardown(async () => {
    for (const c of conns) c.disconnect();
    await stopTestRedis();
  });
  const metrics = { observeLag() {}, sent() {}, received() {} };

  t.test('a local-change listener added before the mirror starts keeps hearing, and the mirror publishes too', async (t) => {
    const prefix = testPrefix();
    const node = (id: string): { fleet: FleetRegistry; mirror: RedisFleetMirror } => {
      const fleet = new FleetRegistry({ cities: [{ name: 'world', timezone: 'UTC', boundary: null }], rebuildMs: 1000, expireMs: 60_000 });
      const redis = conn();
      const mirror = new RedisFleetMirror({ redis, bus: new RedisBus(redis, conn(true), prefix), fleet, logger: createLogger('silent'), metrics, prefix, nodeId: id, tickMs: 20, expireMs: 60_000 });
      return { fleet, mirror };
    };
    const a = node('a');
    const b = node('b');
    const heard: string[] = [];
    a.fleet.addLocalChangeListener((id) => void heard.push(id));
    await a.mirror.start();
    await b.mirror.start();
    t.teardown(async () => {
      await a.mirror.stop();
      await b.mirror.stop();
    });
    a.fleet.update('d1', 45, 7, Date.now(), NaN, NaN);
    t.same(heard, ['d1'], 'the listener added first still hears local changes');
    const deadline = Date.now() + 5000;
    while (!b.fleet.position('d1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    t.match(b.fleet.position('d1'), { lat: 45, lng: 7 }, 'the mirror heard the change too and carried it to the other node');
  });
}
