// Smoke test of the benchmark tools (issue #6): every scenario runs end to end on tiny sizes, over real
// sockets against real servers, and the report writer produces the charts and the BENCHMARKS.md section.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { runBenchCli } from '../benchmarks/cli.js';
import { locTemplate, locsTemplate, putLoc } from '../benchmarks/lib/fix-frames.js';
import { updateBenchmarksMd, writeCharts } from '../benchmarks/lib/report.js';
import type { Results } from '../benchmarks/lib/report.js';
import { runDispatch, DISPATCH_DEFAULTS } from '../benchmarks/scenarios/dispatch.js';
import { runFanout, FANOUT_DEFAULTS } from '../benchmarks/scenarios/fanout.js';
import { runHttp, HTTP_DEFAULTS } from '../benchmarks/scenarios/http.js';
import { runIngest, INGEST_DEFAULTS } from '../benchmarks/scenarios/ingest.js';
import { runMemory } from '../benchmarks/scenarios/memory.js';
import { runNearest, NEAREST_DEFAULTS } from '../benchmarks/scenarios/nearest.js';
import { runMixed, MIXED_DEFAULTS } from '../benchmarks/scenarios/mixed.js';
import { appendHistory, readHistory, writeHistoryChart } from '../benchmarks/lib/history.js';
import { decodeFrame } from '../src/protocol/codec.js';

t.test('pre-encoded fix frames decode as the protocol says', async (t) => {
  const tpl = locTemplate(true);
  const b = Buffer.alloc(tpl.frame.length);
  putLoc(b, 0, tpl, 48.8566, 2.3522, 1764300000123, 77);
  const m = decodeFrame(b.subarray(6)); // past the 6-byte masked frame header (zero mask)
  t.same(m, { t: 'loc', lat: 48.8566, lng: 2.3522, ts: 1764300000123, id: 77 });
  const l = locsTemplate(20, false);
  t.equal(l.frame[0], 0x82);
  const lm = decodeFrame(l.frame.subarray(8));
  t.equal((lm.pts as unknown[]).length, 20);
});

t.test('cli: usage and unknown scenario', async (t) => {
  t.equal(await runBenchCli(['help']), 0);
  t.equal(await runBenchCli(['nope']), 2);
});

t.test('ingest: sockets stream, the server counts, the probe sees fixes', async (t) => {
  const r = await runIngest({ ...INGEST_DEFAULTS, drivers: 100, loaders: 1, durationS: 1, warmupS: 0.5 });
  t.equal(r.connected, 100);
  t.ok(r.fixesPerS > 1000, `accepted ${r.fixesPerS}/s`);
  t.same(r.loader.errs, {}, 'no fix refused');
  t.ok(r.probe && r.probe.visible.n > 0, 'fix→visible measured');
  t.ok(r.server.rssPeakMb > 0);
  t.equal(r.health?.length, 2, 'health routes timed on the main port and the health port');
  const hp = r.health![1]!;
  for (const route of ['/healthz', '/readyz', '/metrics']) t.ok(hp.routes[route]!.n > 0 && hp.routes[route]!.failed === 0, `health port ${route} answered 200`);
  t.ok(hp.maxHeartbeatAgeMs !== undefined, 'heartbeat age read from /healthz');
});

t.test('mixed: GET nearby at a set rate while sockets stream', async (t) => {
  const r = await runMixed({ ...MIXED_DEFAULTS, reqRate: 200, fixRate: 500, drivers: 50, preload: 2000, durationS: 1, warmupS: 0.5, loaders: 1, connections: 4 });
  t.ok(r.nearby.total > 0 && r.nearby.non2xx === 0, `${r.nearby.total} nearby answered, all 2xx`);
  t.ok(r.fixesPerS > 0, `${r.fixesPerS} fixes/s`);
});

t.test('history: one JSON line per suite run and an SVG over them', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-history-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const res = (commit: string, v: number): Results => ({ machine: { cpu: 'x', cores: 2, ram_gb: 1, os: 'x', load_avg: [0, 0, 0] }, node: 'v20', commit, mode: 'quick', started: '2026-12-04T00:00:00Z', finished: '', metrics: { dispatch_p99_max_ms: { value: v, unit: 'ms' } }, runs: {}, notes: [] });
  const file = path.join(dir, 'h.jsonl');
  appendHistory(file, res('aaaaaaa1', 4));
  appendHistory(file, res('bbbbbbb2', 12));
  t.equal(readHistory(file).length, 2);
  writeHistoryChart(file, path.join(dir, 'h.svg'));
  const svg = fs.readFileSync(path.join(dir, 'h.svg'), 'utf8');
  t.match(svg, /<polyline/, 'a line over the runs');
  t.match(svg, /aaaaaaa/, 'runs labelled by commit');
  t.match(svg, /fill="#c33"/, 'a run past its target stands out');
});

t.test('nearest: taxiway and geokdbush agree, and taxiway matches brute force', async (t) => {
  const r = await runNearest({ ...NEAREST_DEFAULTS, drivers: 3000, queries: 300, passes: 1, redisQueries: 20 });
  t.equal(r.agreement, 1);
  t.equal(r.bruteForceExact, true);
  t.ok(r.taxiwayUs > 0 && r.geokdbushUs > 0);
});

t.test('memory: bytes per driver', async (t) => {
  const r = await runMemory(5000);
  t.ok(r.fleetBytesPerDriver > 20 && r.totalBytesPerDriver >= r.fleetBytesPerDriver);
});

t.test('http: autocannon on nearby (taxiway and fastify) and jobs', async (t) => {
  const runs = await runHttp({ ...HTTP_DEFAULTS, scenarios: ['nearby', 'jobs'], preload: 2000, durationS: 1, connections: 8, pool: 20 });
  t.equal(runs.length, 3);
  for (const r of runs) {
    t.ok(r.rps > 0, `${r.server} ${r.scenario} ${r.rps} req/s`);
    t.equal(r.non2xx, 0, `${r.server} ${r.scenario} all 2xx`);
  }
});

t.test('dispatch: offers reach driver sockets', async (t) => {
  const r = await runDispatch({ ...DISPATCH_DEFAULTS, drivers: 200, jobRate: 20, durationS: 1.5, warmupS: 0.5, loaders: 1, windows: 2 });
  t.ok(r.offered > 0, `${r.offered} offers`);
  t.equal(r.windows.length, 2, 'each consecutive window reported');
  t.ok(r.requestToOfferMs.p50 > 0);
});

t.test('fanout: riders receive pos frames of their trips', async (t) => {
  const r = await runFanout({ ...FANOUT_DEFAULTS, trips: 30, durationS: 1.5, loaders: 1 });
  t.ok(r.activeTrips >= 25, `${r.activeTrips} trips`);
  t.ok(r.fixToPosMs.n > 0, `${r.fixToPosMs.n} pos frames`);
});

t.test('report: charts and the generated BENCHMARKS.md section', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-report-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const res: Results = {
    machine: { cpu: 'test', cores: 2, ram_gb: 1, os: 'x', load_avg: [0, 0, 0] }, node: process.version, commit: 'unknown', mode: 'smoke',
    started: 'a', finished: 'b', runs: { ingest: { command: 'npx taxiway bench ingest', result: {} } }, notes: [],
    metrics: { ingest_fixes_per_s: { value: 123456, unit: 'fixes/s', target: '≥ 600,000/s', met: false }, nearest10_us: { value: 1.5, unit: 'µs' } },
  };
  const charts = writeCharts(res, dir, dir);
  t.ok(fs.readFileSync(path.join(dir, 'chart-ingest.svg'), 'utf8').startsWith('<svg'));
  const md = path.join(dir, 'B.md');
  fs.writeFileSync(md, '# Bench\n\nprose stays\n');
  updateBenchmarksMd(md, res, charts);
  updateBenchmarksMd(md, res, charts); // idempotent: one generated section
  const text = fs.readFileSync(md, 'utf8');
  t.match(text, /prose stays/);
  t.equal(text.split('bench:results:begin').length, 2);
  t.match(text, /123k fixes\/s/);
});
