// Per-city timer queues (CityTimers over BullMQ, issue #17), on a real Redis: a city's timers fire only on nodes serving it, whoever scheduled them.
import t from 'tap';
import { Redis } from 'ioredis';
import { BullmqTimers, timerQueuePrefix } from '../src/bus/bullmq-timers.js';
import { CityTimers } from '../src/bus/city-timers.js';
import { redisSkip, stopTestRedis, testPrefix, testRedisUrl } from './helpers/redis.js';

const skip = await redisSkip();
if (skip) t.test('per-city timer queues on Redis', { skip }, async () => {});
else {
  const url = (await testRedisUrl())!;
  const conns: Redis[] = [];
  const conn = (blocking = false): Redis => {
    const r = new Redis(url, blocking ? { maxRetriesPerRequest: null } : {});
    conns.push(r);
    return r;
  };
  const all: CityTimers[] = [];
  t.teardown(async () => {
    for (const x of all) await x.close();
    for (const c of conns) c.disconnect();
    await stopTestRedis();
  });
  const node = (prefix: string, name: string, cities: string[], fired: Array<[string, string]>): CityTimers => {
    const q = conn(), w = conn(true);
    const x = new CityTimers((city) => new BullmqTimers(q, w, timerQueuePrefix(prefix, city)));
    x.handle('k', (p) => void fired.push([name, String(p.id)]));
    x.serveCities(cities);
    all.push(x);
    return x;
  };

  t.test("a city's timers fire on its nodes only; timers without a city on any node; a city served later is worked from then on", async (t) => {
    const p = testPrefix();
    const fired: Array<[string, string]> = [];
    const porto = node(p, 'porto-node', ['porto'], fired);
    const lisbon = node(p, 'lisbon-node', ['lisbon'], fired);
    for (let i = 0; i < 5; i++) {
      await lisbon.schedule('k', `p${i}`, 50, { id: `p${i}` }, 'porto');
      await porto.schedule('k', `l${i}`, 50, { id: `l${i}` }, 'lisbon');
    }
    await porto.schedule('k', 'm0', 50, { id: 'm0' }, 'madrid');
    await porto.schedule('k', 'any', 50, { id: 'any' });
    await porto.schedule('k', 'gone', 50, { id: 'gone' }, 'porto');
    await lisbon.cancel('k', 'gone', 'porto');
    const end = Date.now() + 10_000;
    while (fired.length < 11 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 500));
    const by = (id: string): string[] => fired.filter(([, f]) => f === id).map(([n]) => n);
    for (let i = 0; i < 5; i++) {
      t.same(by(`p${i}`), ['porto-node'], `porto timer p${i}, scheduled by the lisbon node, fired on the porto node`);
      t.same(by(`l${i}`), ['lisbon-node'], `lisbon timer l${i} on the lisbon node`);
    }
    t.equal(by('any').length, 1, 'a timer without a city fires once, on some node');
    t.same(by('gone'), [], 'cancelled from another node with its city');
    t.same(by('m0'), [], 'madrid: nobody serves it yet, its timer waits');
    lisbon.serveCities(['lisbon', 'madrid']);
    const end2 = Date.now() + 10_000;
    while (by('m0').length === 0 && Date.now() < end2) await new Promise((r) => setTimeout(r, 20));
    t.same(by('m0'), ['lisbon-node'], 'fired once a node serves madrid');
  });
}
