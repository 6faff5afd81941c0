// Queue frames are coalesced: one read per queue per TAXIWAY_QUEUE_FRAME_MS, a frame only for a changed position, length-only changes at most every TAXIWAY_QUEUE_LENGTH_FRAME_MS.
import t from 'tap';
import { MemoryBus } from '../src/bus/bus.js';
import { QueueFrames } from '../src/matching/queue-frames.js';
import { MemoryZoneQueue } from '../src/matching/zone-queue.js';
import { Metrics } from '../src/observability/metrics.js';
import { createLogger } from '../src/observability/logger.js';
import { decodeFrame } from '../src/protocol/codec.js';
import { ManualClock } from './helpers/manual-clock.js';

interface Got { at: number; position: number; length: number; left?: boolean }

async function world(local: (id: string) => boolean = () => true) {
  const clock = new ManualClock(1_000_000);
  const queue = new MemoryZoneQueue();
  const bus = new MemoryBus();
  const got = new Map<string, Got[]>();
  let reads = 0;
  const counted = new Proxy(queue, {
    get: (o, k) => (k === 'list' ? (...a: Parameters<MemoryZoneQueue['list']>) => (reads++, o.list(...a)) : Reflect.get(o, k)),
  });
  const frames = new QueueFrames({
    queue: counted, bus, clock, frameMs: 500, lengthFrameMs: 10_000, maxLength: 1000, metrics: new Metrics(), logger: createLogger('silent'),
    local: {
      has: local, count: () => 1,
      send: (id, f) => {
        const m = decodeFrame(new Uint8Array(f)) as { position: number; length: number; left?: boolean };
        const l = got.get(id) ?? [];
        got.set(id, l);
        l.push({ at: clock.now(), position: m.position, length: m.length, left: m.left });
      },
    },
  });
  await frames.start();
  const q = { city: 'nice', zone: 'nce-t1' };
  const settle = async (ms: number): Promise<void> => {
    clock.advance(ms);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  const join = async (id: string) => {
    await queue.join(q, id, clock.now(), 1000);
    frames.changed(q);
  };
  const leave = async (id: string) => {
    await queue.leave(q, id);
    frames.changed(q);
  };
  const total = () => [...got.values()].reduce((n, l) => n + l.length, 0);
  return { clock, got, frames, settle, join, leave, total, reads: () => reads };
}

t.test('a 300-driver queue: joins are sent together, a length change alone waits, a head leaving moves everyone once', async (t) => {
  const w = await world();
  const ids = Array.from({ length: 300 }, (_, i) => `d${i}`);
  for (const id of ids) await w.join(id);
  await w.settle(0);
  t.equal(w.reads(), 1, '300 changes at once: one read');
  t.equal(w.total(), 300, 'one frame each');
  t.same(w.got.get('d299')![0], { at: 1_000_000, position: 300, length: 300, left: undefined });

  for (let i = 0; i < 10; i++) await w.join(`n${i}`);
  await w.settle(500);
  t.equal(w.reads(), 2, 'the next changes: one read, 500 ms after the first');
  t.equal(w.total(), 310, 'only the ten newcomers got a frame: the others\' positions did not change');

  await w.settle(9_499);
  t.equal(w.total(), 310, 'not before ten seconds after their last frame');
  await w.settle(1);
  t.equal(w.total(), 610, 'ten seconds later the 300 hear the new length, once');
  t.same(w.got.get('d0')!.at(-1), { at: 1_010_000, position: 1, length: 310, left: undefined });

  const before = w.total();
  await w.leave('d0');
  await w.settle(500);
  t.equal(w.total() - before, 310, '309 moved up one place, and the one that left is told');
  t.same(w.got.get('d0')!.at(-1), { at: w.clock.now(), position: 0, length: 309, left: true });
  t.same(w.got.get('n9')!.at(-1), { at: w.clock.now(), position: 309, length: 309, left: undefined });
  w.frames.stop();
});

t.test('churn: at most one frame per driver per frame interval, and the last one is right', async (t) => {
  const w = await world();
  for (const id of ['a', 'b', 'c']) await w.join(id);
  await w.settle(0);
  for (let i = 0; i < 40; i++) {
    await w.join(`x${i}`);
    await w.leave(i % 2 ? 'x' + (i - 1) : 'nobody');
    await w.settle(50);
  }
  await w.leave('a');
  await w.settle(2000);
  for (const [id, l] of w.got) {
    for (let i = 1; i < l.length; i++) t.ok(l[i]!.at - l[i - 1]!.at >= 500, `${id}: frames ${l[i - 1]!.at} and ${l[i]!.at} at least 500 ms apart`);
  }
  t.same(w.got.get('b')!.at(-1)!.position, 1, 'b is first after a left');
  t.ok(w.reads() <= 2000 / 500 + 2 + 2, `reads ${w.reads()}: about one per 500 ms`);
  w.frames.stop();
});

t.test('frames go only to drivers whose socket this node holds', async (t) => {
  const w = await world((id) => id !== 'remote');
  await w.join('remote');
  await w.join('here');
  await w.settle(0);
  t.notOk(w.got.has('remote'));
  t.same(w.got.get('here')!.map((g) => g.position), [2]);
  w.frames.stop();
});
