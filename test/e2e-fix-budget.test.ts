// The per-driver fix budget over real sockets: rate_limited per point in `locs`, per `loc`, whole spent
// frames, the metric; and fair share: a driver flooding `locs` flat out does not starve another's fixes.
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { http, onlineDriver, removeDir, sleep, startServer } from './helpers/server.js';
import type { FlooderResult } from './helpers/locs-flooder.js';

t.test('budget: burst, then rate_limited per point, per loc, and whole frames while spent', async (t) => {
  const s = await startServer({ TAXIWAY_FIX_BUDGET_RATE: '5', TAXIWAY_FIX_BUDGET_BURST: '50' });
  t.teardown(async () => {
    await s.stop();
    removeDir(s.dataDir);
  });
  const c = (await onlineDriver(s, 'bd1', 43.73, 7.42)).allowInvalidSends(); // one fix taken; an out-of-range point on purpose below
  const t0 = Date.now() - 600_000;
  const pts = (from: number, n: number): number[][] => Array.from({ length: n }, (_, i) => [t0 + (from + i) * 1000, 43.73 + (from + i) * 1e-5, 7.42]);
  const a1 = await c.request({ t: 'locs', pts: pts(0, 40) });
  t.same(a1, { t: 'ack', id: a1.id, accepted: 40, rejected: 0, duplicates: 0, limited: 0 });
  // 9 tokens left (50 - 1 - 40), plus what came back meanwhile (5/s): a few more at most.
  const a2 = await c.request({ t: 'locs', pts: [...pts(40, 20), [t0, 999, 7.42]] });
  t.equal(a2.rejected, 1, 'an invalid point is rejected (validated before the budget is asked)');
  t.ok((a2.accepted as number) >= 9 && (a2.accepted as number) <= 11, `accepted ${a2.accepted} of 20: the rest of the burst`);
  t.equal((a2.accepted as number) + (a2.limited as number), 20, 'every other valid point limited');
  const l = await c.request({ t: 'loc', lat: 43.74, lng: 7.42, ts: Date.now() });
  t.equal(l.t, 'err');
  t.equal(l.code, 'rate_limited', 'a single loc over budget');
  // A spent driver's locs is refused whole: limited counts every point, read or not.
  const a3 = await c.request({ t: 'locs', pts: [...pts(60, 10), 'junk', [1, 2]] });
  t.same(a3, { t: 'ack', id: a3.id, accepted: 0, rejected: 0, duplicates: 0, limited: 12 });
  // Without id, a refused frame is answered with one err.
  const mark = c.frames.length;
  c.send({ t: 'locs', pts: pts(70, 3) });
  const e = await c.waitFor((f) => f.t === 'err', 2000, mark);
  t.equal(e.code, 'rate_limited');
  t.match(e.msg, /3 rate-limited/);
  // Tokens come back at 5/s.
  await sleep(650);
  const a4 = await c.request({ t: 'locs', pts: pts(80, 10) });
  t.ok((a4.accepted as number) >= 3 && (a4.accepted as number) <= 5, `accepted ${a4.accepted} after 650 ms at 5/s`);
  // Other drivers have their own budget.
  const other = await onlineDriver(s, 'bd2', 43.73, 7.42);
  t.equal((await other.request({ t: 'loc', lat: 43.73001, lng: 7.42, ts: Date.now() + 2000 })).t, 'ack');
  const metrics = (await http('GET', `${s.url}/metrics`)).body as string;
  const limited = Number(/taxiway_fixes_rejected_total\{reason="rate_limited"\} (\d+)/.exec(metrics)?.[1]);
  t.ok(limited >= 1 + 12 + 3 + 9 + 5, `rate_limited fixes counted: ${limited}`);
  t.match(metrics, /taxiway_ws_bad_frames_total\{role="driver",code="rate_limited"\} 2/, 'the two err frames');
  c.close();
  other.close();
});

t.test('budget off (rate 0): nothing is limited', async (t) => {
  const s = await startServer({ TAXIWAY_FIX_BUDGET_RATE: '0', TAXIWAY_FIX_BUDGET_BURST: '1' });
  t.teardown(async () => {
    await s.stop();
    removeDir(s.dataDir);
  });
  const c = await onlineDriver(s, 'off1', 43.73, 7.42);
  const t0 = Date.now() - 2_000_000;
  const a = await c.request({ t: 'locs', pts: Array.from({ length: 1000 }, (_, i) => [t0 + i * 1000, 43.73, 7.42]) });
  t.same(a, { t: 'ack', id: a.id, accepted: 1000, rejected: 0, duplicates: 0, limited: 0 });
  c.close();
});

t.test('fair share: one driver flooding locs flat out, another sending a fix every 100 ms', async (t) => {
  const s = await startServer({ TAXIWAY_FIX_BUDGET_RATE: '5', TAXIWAY_FIX_BUDGET_BURST: '7200' });
  t.teardown(async () => {
    await s.stop();
    removeDir(s.dataDir);
  });
  const floodMs = 6000;
  const worker = new Worker(new URL('./helpers/locs-flooder.js', import.meta.url), {
    workerData: { url: `${s.wsUrl}/v1/driver/ws`, token: await s.token('driver', 'flooder'), ms: floodMs, frames: 20, points: 1000 },
  });
  const flood = new Promise<FlooderResult>((resolve, reject) => {
    worker.once('message', (m: FlooderResult & { error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m)));
    worker.once('error', reject);
  });
  const c = await onlineDriver(s, 'steady', 43.73, 7.42);
  await sleep(300); // the flood is under way
  const lat: number[] = [];
  const start = Date.now();
  let i = 0;
  while (Date.now() - start < floodMs - 1000) {
    const sent = performance.now();
    const r = await c.request({ t: 'loc', lat: 43.73 + ++i * 1e-5, lng: 7.42, ts: Date.now() }, 10_000);
    lat.push(performance.now() - sent);
    t.equal(r.t, 'ack', 'the steady driver is never refused');
    await sleep(Math.max(0, 100 - (performance.now() - sent)));
  }
  const res = await flood;
  await worker.terminate();
  lat.sort((a, b) => a - b);
  const p50 = lat[Math.floor(lat.length * 0.5)]!;
  const p99 = lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))]!;
  const elapsedS = (Date.now() - start) / 1000 + 2;
  t.comment(`steady driver: ${lat.length} fixes, ack p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${lat.at(-1)!.toFixed(1)} ms`);
  t.comment(`flooder: ${res.sent} frames (${res.sent * 1000} points) sent, ${res.acks} acks, accepted ${res.accepted}, limited ${res.limited}, duplicates ${res.duplicates}`);
  t.ok(lat.length >= 20, 'the steady driver got its fixes through');
  t.ok(p99 < 500, `steady driver's ack p99 ${p99.toFixed(1)} ms < 500 ms`);
  t.ok(res.sent >= 20, 'the flooder did flood');
  t.ok(res.accepted + res.duplicates <= 7200 + 5 * elapsedS, `flooder's judged fixes (${res.accepted + res.duplicates}) within its budget`);
  t.ok(res.accepted >= 7000, 'and it got its burst');
  t.equal(res.acks, res.sent, 'every flooded frame was answered');
  c.close();
});
