// Contract suites for the Bus and Timers ports, run against the in-memory and the Redis/BullMQ adapters.
import type { Bus } from '../../src/bus/bus.js';
import type { Timers } from '../../src/bus/timers.js';
import type { TapTest } from './storage-contract.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await sleep(10);
  }
  return pred();
}

/** `make` returns two buses that share a backend (two "nodes"); for the memory adapter, the same bus twice. */
export function busContract(t: TapTest, name: string, make: () => Promise<[Bus, Bus]>, features: { crossNode: boolean }): void {
  t.test(`${name}: every subscriber gets every message, in order, binary-safe`, async (t) => {
    const [a, b] = await make();
    const gotA: Buffer[] = [];
    const gotB: Buffer[] = [];
    await a.subscribe('ch', (p) => gotA.push(p));
    await b.subscribe('ch', (p) => gotB.push(p));
    const msgs = Array.from({ length: 50 }, (_, i) => Buffer.from([i, 0, 255, 0x80, i]));
    for (const m of msgs) a.publish('ch', m);
    t.ok(await until(() => gotA.length === 50 && gotB.length === (features.crossNode ? 50 : 50), 3000));
    t.same(gotA.map((x) => [...x]), msgs.map((x) => [...x]));
    t.same(gotB.map((x) => [...x]), msgs.map((x) => [...x]));
    t.equal(a.stats.published, 50);
    await a.close();
    if (b !== a) await b.close();
  });

  t.test(`${name}: channels are separate`, async (t) => {
    const [a, b] = await make();
    const got: string[] = [];
    await b.subscribe('x', (p) => got.push('x' + p.toString()));
    await b.subscribe('y', (p) => got.push('y' + p.toString()));
    a.publish('y', Buffer.from('1'));
    a.publish('z', Buffer.from('2'));
    a.publish('x', Buffer.from('3'));
    t.ok(await until(() => got.length === 2, 3000));
    await sleep(50);
    // Order is per channel: on a Redis Cluster two channels may live on two shards (sharded pub/sub).
    t.same([...got].sort(), ['x3', 'y1'], 'each subscribed channel\'s message, none of z');
    await a.close();
    if (b !== a) await b.close();
  });
}

/** `make` returns two Timers sharing a backend (two "nodes") where the adapter is durable across nodes. */
/**
 * `reopen` (durable adapters): new timers over what `closed` stored, as after a restart of the only node;
 * without it that test is skipped.
 */
export function timersContract(
  t: TapTest, name: string, make: () => Promise<[Timers, Timers]>,
  features: { durableAcrossNodes: boolean; reopen?: (closed: Timers) => Promise<Timers> },
): void {
  const reopen = features.reopen;
  if (reopen) {
    t.test(`${name}: timers survive a restart; one overdue meanwhile fires once its handler is registered`, async (t) => {
      const [a, b] = await make();
      if (b !== a) await b.close();
      await a.schedule('k', 'soon', 100, { v: 'overdue' });
      await a.schedule('k', 'later', 800, { v: 'later' });
      await a.schedule('k', 'gone', 100, { v: 'cancelled' });
      await a.cancel('k', 'gone');
      await a.close();
      await sleep(300); // 'soon' comes due while nothing runs
      const back = await reopen(a);
      const fired: string[] = [];
      back.handle('k', (p) => void fired.push(String(p.v)));
      t.ok(await until(() => fired.length === 2, 5000), `fired: ${fired.join(',')}`);
      t.same(fired, ['overdue', 'later']);
      await sleep(300);
      t.equal(fired.length, 2, 'each once; the cancelled one never');
      await back.close();
    });
  }

  t.test(`${name}: fires after the delay with its payload`, async (t) => {
    const [a, b] = await make();
    const fired: Array<{ p: unknown; at: number }> = [];
    a.handle('k', (p) => void fired.push({ p, at: Date.now() }));
    if (b !== a) b.handle('k', (p) => void fired.push({ p, at: Date.now() }));
    const t0 = Date.now();
    await a.schedule('k', 'one', 300, { job: 'j1', n: 2 });
    t.ok(await until(() => fired.length === 1, 5000));
    t.same(fired[0]!.p, { job: 'j1', n: 2 });
    t.ok(fired[0]!.at - t0 >= 290, 'not early');
    await sleep(300);
    t.equal(fired.length, 1, 'fires once');
    await a.close();
    if (b !== a) await b.close();
  });

  t.test(`${name}: cancel and reschedule`, async (t) => {
    const [a, b] = await make();
    const fired: string[] = [];
    a.handle('k', (p) => void fired.push(String(p.v)));
    if (b !== a) b.handle('k', (p) => void fired.push(String(p.v)));
    await a.schedule('k', 'c', 200, { v: 'cancelled' });
    await a.cancel('k', 'c');
    await a.schedule('k', 'r', 200, { v: 'old' });
    await a.schedule('k', 'r', 300, { v: 'new' });
    await a.cancel('k', 'never-scheduled');
    await sleep(900);
    t.same(fired, ['new']);
    await a.close();
    if (b !== a) await b.close();
  });

  if (features.durableAcrossNodes) {
    t.test(`${name}: a timer survives the node that scheduled it`, async (t) => {
      const [a, b] = await make();
      const fired: string[] = [];
      b.handle('k', (p) => void fired.push(String(p.v)));
      await a.schedule('k', 'orphan', 300, { v: 'fired-elsewhere' });
      await a.close(); // node a is gone
      t.ok(await until(() => fired.length === 1, 5000));
      t.same(fired, ['fired-elsewhere']);
      await b.close();
    });

    t.test(`${name}: a due timer fires promptly on the surviving node even when the dead one was the one waiting for it`, async (t) => {
      const [a, b] = await make();
      const fired: Array<{ v: string; at: number }> = [];
      const h = (p: Record<string, unknown>): void => void fired.push({ v: String(p.v), at: Date.now() });
      a.handle('k', h);
      b.handle('k', h);
      await sleep(200); // both workers blocked and waiting
      await a.schedule('k', 'late', 4000, { v: 'late' });
      await sleep(100);
      const t0 = Date.now();
      await a.schedule('k', 'soon', 300, { v: 'soon' });
      await sleep(50);
      await a.close(); // whichever node learnt of 'soon' first may be the one gone
      t.ok(await until(() => fired.some((f) => f.v === 'soon'), 6000), 'fired');
      const lag = fired.find((f) => f.v === 'soon')!.at - t0 - 300;
      t.ok(lag < 1800, `fired ${lag} ms after its due time`);
      await b.close();
    });
  }
}
