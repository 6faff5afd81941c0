// The soak harness (issue #18) end to end on a small load for two minutes: rows every 20 s, every accepted
// fix read back from history, and the verdict's trend maths on known series.
import t from 'tap';
import { runSoak, soakMarkdown } from '../benchmarks/soak.js';
import { judgeSoak, median, slope } from '../benchmarks/lib/soak-verdict.js';
import type { SoakRow } from '../benchmarks/lib/soak-verdict.js';

const row = (atMin: number, rss: number, heap: number, vis: number, disp: number): SoakRow => ({
  atMin, rssMb: rss + 50, rssAnonMb: rss, heapUsedMb: heap, loopDelayP99Ms: 1, fixToVisibleP99Ms: vis, dispatchP99Ms: disp, fixesPerS: 1000, jobs: 10, offered: 10, serverCpuPct: 20, machineBusyCores: 0.5,
});

t.test('trend maths: slope, median, and the rules', async (t) => {
  t.equal(slope([1, 2, 3, 4], [10, 12, 14, 16]), 2);
  t.equal(median([3, 1, NaN, 2]), 2);
  const flat = Array.from({ length: 12 }, (_, i) => row(i + 1, 100 + (i % 2), 30, 10, 5));
  const ok = judgeSoak(flat, 2, 1000, 1000);
  t.ok(ok.judged && ok.pass, 'flat memory, steady p99, nothing lost: pass');
  const leak = Array.from({ length: 12 }, (_, i) => row(i + 1, 100 + 3 * i, 30 + i, 10, 5));
  const bad = judgeSoak(leak, 2, 1000, 1000);
  t.notOk(bad.pass, 'a growing heap fails');
  t.ok(bad.rules.some((r) => !r.ok && r.rule.startsWith('JS heap')));
  // The heap rule reads each interval's floor where rows have one: a sample at the collector's whim swings
  // (here 40 ↔ 140 MB, a rising least-squares slope) while the live heap stays flat.
  const swinging = Array.from({ length: 12 }, (_, i) => ({ ...row(i + 1, 100, i < 8 ? 40 + 100 * (i % 2) : 140 - 100 * (i % 2), 10, 5), heapFloorMb: 35 + (i % 2) }));
  t.ok(judgeSoak(swinging.map((r) => ({ ...r, heapFloorMb: undefined })), 2, 1000, 1000).heapSlopeMbPerMin > 0.5, 'the sampled heap alone would fail');
  t.ok(judgeSoak(swinging, 2, 1000, 1000).pass, 'a flat heap floor passes');
  const floorLeak = swinging.map((r, i) => ({ ...r, heapFloorMb: 35 + i }));
  t.notOk(judgeSoak(floorLeak, 2, 1000, 1000).pass, 'a rising heap floor fails');
  const drift = Array.from({ length: 12 }, (_, i) => row(i + 1, 100, 30, 10 + 10 * i, 5));
  t.notOk(judgeSoak(drift, 2, 1000, 1000).pass, 'a p99 climbing run after run fails');
  const lost = judgeSoak(flat, 2, 1000, 999);
  t.notOk(lost.pass);
  t.equal(lost.lost, 1);
  const short = judgeSoak(flat.slice(0, 4), 2, 5, 5);
  t.notOk(short.judged, 'too few rows after warm-up: trends not judged');
  t.ok(short.pass);
});

t.test('a two-minute soak runs, reports every interval and loses no fix', async (t) => {
  const r = await runSoak({ minutes: 2, rowS: 20, warmupMin: 0.5, drivers: 400, rate: 400, jobRate: 1, riders: 10, loaders: 1, seed: 3 });
  t.equal(r.rows.length, 6, 'a row every 20 s');
  for (const x of r.rows) {
    t.ok(x.fixesPerS > 300, `fixes flow (${x.fixesPerS}/s)`);
    t.ok(x.rssAnonMb > 0 && x.heapUsedMb > 0, 'memory sampled');
    t.ok(x.heapFloorMb! > 0 && x.heapFloorMb! <= x.heapUsedMb + 1, `heap floor sampled (${x.heapFloorMb} MB, heap ${x.heapUsedMb} MB)`);
    t.ok(x.heapTotalMb! >= x.heapUsedMb - 1 && x.externalMb! >= 0, 'heap total and external reported');
    t.ok(x.offered > 0, 'jobs are offered');
  }
  t.ok(r.verdict.accepted > 40_000, `fixes accepted (${r.verdict.accepted})`);
  t.equal(r.verdict.stored, r.verdict.accepted, 'every accepted fix read back from history');
  t.ok(r.verdict.pass);
  t.ok(r.opsFrames > 0, 'the ops socket watched');
  t.match(soakMarkdown(r), /\| min \| RSS MB/);
});
