// Bus and Timers contracts through Redis Sentinel (primary + replica + 3 Sentinels); timers WAIT for the replica.
import t from 'tap';
import { RedisBus } from '../src/bus/redis-bus.js';
import { BullmqTimers } from '../src/bus/bullmq-timers.js';
import { redisConnection } from '../src/bus/redis-connection.js';
import type { RedisClient } from '../src/bus/redis-connection.js';
import type { UnreplicatedReason } from '../src/bus/replica-wait.js';
import { createLogger } from '../src/observability/logger.js';
import { busContract, timersContract } from './contract/bus-timers-contract.js';
import { testPrefix } from './helpers/redis.js';
import { SentinelSetup } from './helpers/redis-sentinel.js';

const skip = SentinelSetup.skip();
if (skip) t.test('Bus and Timers contracts through Sentinel', { skip }, async () => {});
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
  busContract(t, 'sentinel bus', async () => {
    const p = testPrefix();
    return [new RedisBus(conn('main'), conn('sub', true), p), new RedisBus(conn('main'), conn('sub', true), p)];
  }, { crossNode: true });
  const prefixes = new Map<BullmqTimers, string>();
  const reports: UnreplicatedReason[] = [];
  const timers = (p: string): BullmqTimers => {
    const x = new BullmqTimers(conn('queue'), conn('worker', true), p, undefined, { replicas: 1, timeoutMs: 50 }, (why) => reports.push(why));
    prefixes.set(x, p);
    return x;
  };
  timersContract(t, 'sentinel timers', async () => {
    const p = testPrefix();
    return [timers(p), timers(p)];
  }, { durableAcrossNodes: true, reopen: async (closed) => timers(prefixes.get(closed as BullmqTimers)!) });
  t.test('sentinel timers: every schedule was acknowledged by the replica', async (t) => {
    t.same(reports, []);
  });
}
