// Bus (sharded pub/sub), Timers (one braced BullMQ queue) and Lease contracts on a real 3-primary Redis Cluster.
import t from 'tap';
import { RedisBus } from '../src/bus/redis-bus.js';
import { BullmqTimers, timerQueuePrefix } from '../src/bus/bullmq-timers.js';
import { RedisLease } from '../src/bus/redis-lease.js';
import { redisConnection, waitReady } from '../src/bus/redis-connection.js';
import type { RedisClient } from '../src/bus/redis-connection.js';
import { createLogger } from '../src/observability/logger.js';
import { cityScoped, fleetChannel } from '../src/storage/redis-keys.js';
import { busContract, timersContract } from './contract/bus-timers-contract.js';
import { leaseContract } from './contract/lease-contract.js';
import { testPrefix } from './helpers/redis.js';
import { RedisClusterSetup } from './helpers/redis-cluster.js';

const skip = RedisClusterSetup.skip();
if (skip) t.test('Bus, Timers and Lease contracts on Redis Cluster', { skip }, async () => {});
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
  const bus = (p: string): RedisBus => new RedisBus(conn('main'), conn('sub', true, true), p, true);
  busContract(t, 'cluster bus', async () => {
    const p = testPrefix();
    return [bus(p), bus(p)];
  }, { crossNode: true });

  t.test('cluster bus: city channels of several slots, each heard by the other node', async (t) => {
    const p = testPrefix();
    const [a, b] = [bus(p), bus(p)];
    const cities = ['porto', 'lisbon', 'dublin', 'madrid'];
    const got: string[] = [];
    for (const c of cities) await b.subscribe(fleetChannel(c), (m) => got.push(`${c}:${m.toString()}`));
    await b.subscribe('deliver', (m) => got.push(`deliver:${m.toString()}`));
    for (const c of cities) a.publish(fleetChannel(c), Buffer.from('x'));
    a.publish('deliver', Buffer.from('y'));
    const end = Date.now() + 10_000;
    while (got.length < 5 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    t.same(got.sort(), [...cities.map((c) => `${c}:x`), 'deliver:y'].sort());
  });

  const prefixes = new Map<BullmqTimers, string>();
  const timers = (p: string): BullmqTimers => {
    const x = new BullmqTimers(conn('queue'), conn('worker', true), timerQueuePrefix(p));
    prefixes.set(x, p);
    return x;
  };
  timersContract(t, 'cluster timers', async () => {
    const p = testPrefix();
    return [timers(p), timers(p)];
  }, { durableAcrossNodes: true, reopen: async (closed) => timers(prefixes.get(closed as BullmqTimers)!) });

  leaseContract(t, 'cluster lease', async () => {
    const p = testPrefix();
    const [a, b] = [conn('main'), conn('main')];
    // Connected before the contract times its short leases (a Cluster's first command also loads the slot map).
    await Promise.all([waitReady(a), waitReady(b)]);
    return [new RedisLease(a, p), new RedisLease(b, p)];
  });
  t.test('cluster lease: a city\'s lease name lands in its slot', async (t) => {
    const p = testPrefix();
    const [a, b] = [new RedisLease(conn('main'), p), new RedisLease(conn('main'), p)];
    t.ok(await a.acquire(cityScoped('porto', 'dispatch'), 'A', 5000));
    t.notOk(await b.acquire(cityScoped('porto', 'dispatch'), 'B', 5000));
    t.ok(await b.acquire(cityScoped('lisbon', 'dispatch'), 'B', 5000));
    t.equal(await b.holder(cityScoped('porto', 'dispatch')), 'A');
  });
}
