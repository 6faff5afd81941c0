// Bus and Timers contracts against Redis pub/sub and BullMQ, on a real Redis.
import t from 'tap';
import { Redis } from 'ioredis';
import { RedisBus } from '../src/bus/redis-bus.js';
import { BullmqTimers } from '../src/bus/bullmq-timers.js';
import { busContract, timersContract } from './contract/bus-timers-contract.js';
import { redisSkip, stopTestRedis, testPrefix, testRedisUrl } from './helpers/redis.js';

const skip = await redisSkip();
if (skip) t.test('Bus and Timers contracts on Redis', { skip }, async () => {});
else {
  const url = (await testRedisUrl())!;
  const conns: Redis[] = [];
  const conn = (blocking = false): Redis => {
    const r = new Redis(url, blocking ? { maxRetriesPerRequest: null } : {});
    conns.push(r);
    return r;
  };
  t.teardown(async () => {
    for (const c of conns) c.disconnect();
    await stopTestRedis();
  });
  busContract(t, 'redis bus', async () => {
    const p = testPrefix();
    return [new RedisBus(conn(), conn(true), p), new RedisBus(conn(), conn(true), p)];
  }, { crossNode: true });
  const prefixes = new Map<BullmqTimers, string>();
  const timers = (p: string): BullmqTimers => {
    const x = new BullmqTimers(conn(), conn(true), p);
    prefixes.set(x, p);
    return x;
  };
  timersContract(t, 'bullmq timers', async () => {
    const p = testPrefix();
    return [timers(p), timers(p)];
  }, { durableAcrossNodes: true, reopen: async (closed) => timers(prefixes.get(closed as BullmqTimers)!) });
}
