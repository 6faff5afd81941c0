// `npm run soak -- --minutes 30`: one embedded node under a steady load for a long time, reported per interval
// (memory, event-loop delay, fix → visible and dispatch p99, fixes/s) and judged at the end: memory flat after
// warm-up, no p99 drifting upward, every accepted fix read back from history.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Packr, Unpackr } from 'msgpackr';
import { parseArgs } from '../src/cli-args.js';
import { postJobsAtRate } from './lib/job-client.js';
import type { PostedJob } from './lib/job-client.js';
import { signHs256 } from './lib/jwt.js';
import { LeanWs, clientFrame } from './lib/lean-ws.js';
import { LoaderPool } from './lib/loaders.js';
import { startProbe } from './lib/probe.js';
import { gitCommit, machineBusyS, machineInfo, procSample } from './lib/procs.js';
import { startTaxiway, waitAvailable } from './lib/servers.js';
import type { RunningServer } from './lib/servers.js';
import { judgeSoak, SOAK_BOUNDS } from './lib/soak-verdict.js';
import type { SoakRow, SoakVerdict } from './lib/soak-verdict.js';
import { cityPoints, log, round, sleep, summarize } from './lib/util.js';

export interface SoakOptions {
  minutes: number;
  /** Length of one reporting interval, s. */
  rowS: number;
  /**
   * Rows before this (minutes) are warm-up, left out of the trends. The default, 11 min, outlasts the
   * node's bounded structures filling up: final jobs stay in memory for TAXIWAY_FINISHED_JOB_TTL_MS
   * (10 min by default), so memory rightly grows until then. From the command line it is at most a
   * quarter of the run (7.5 min of 30), so a run judges enough rows; a run that passes with the
   * retention still filling passes a stricter test.
   */
  warmupMin: number;
  drivers: number;
  /** Fixes/s of the whole fleet (spread evenly over the driver sockets). */
  rate: number;
  jobRate: number;
  /** Rider sockets following the jobs (each follows many over the run). */
  riders: number;
  loaders: number;
  seed: number;
}

/**
 * Defaults: 12,000 drivers at 1 fix/s and 5 jobs/s. On this 2-core machine the load generators share the
 * cores with the server, so "half capacity" is half of what one core of server can take paced (about 25k
 * fixes/s with the loaders beside it): see BENCHMARKS.md, "Soak".
 */
export const SOAK_DEFAULTS: SoakOptions = { minutes: 30, rowS: 60, warmupMin: 11, drivers: 12_000, rate: 12_000, jobRate: 5, riders: 200, loaders: 2, seed: 7 };

export interface SoakResult {
  options: SoakOptions;
  commit: string;
  date: string;
  machine: ReturnType<typeof machineInfo>;
  rows: SoakRow[];
  verdict: SoakVerdict;
  opsFrames: number;
  notes: string[];
}

/** Anonymous resident memory of a process, MB (RssAnon in /proc/<pid>/status): excludes LMDB's file-backed map pages. */
function rssAnonMb(pid: number): number {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/RssAnon:\s+(\d+)/.exec(s)?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ mapsAsObjects: true, useRecords: false, int64AsType: 'number' });

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const notes: string[] = [];
  // The commit and time the node started from (a checkout may move during a 30-minute run).
  const commit = gitCommit();
  const started = new Date().toISOString();
  log(`soak: ${o.minutes} min, ${o.drivers} drivers, ${o.rate} fixes/s, ${o.jobRate} jobs/s, ${o.riders} riders, a row every ${o.rowS} s`);
  const tw = await startTaxiway({ env: { TAXIWAY_OFFER_TIMEOUT_MS: '10000' } });
  const pool = await LoaderPool.start(o.loaders);
  const riderPool = await LoaderPool.start(1);
  let ops: LeanWs | null = null;
  try {
    const pts = cityPoints(o.drivers, o.seed);
    const ids = Array.from({ length: o.drivers }, (_, i) => 'd' + i);
    const opened = await pool.open('driver', ids, pts, { port: tw.port, secret: tw.secret, concurrency: 128 });
    if (opened.failed) notes.push(`${opened.failed} driver sockets failed to open: ${JSON.stringify(opened.statuses)}`);
    const rIds = Array.from({ length: o.riders }, (_, i) => 'r' + i);
    const rOpen = await riderPool.open('rider', rIds, null, { port: tw.port, secret: tw.secret });
    log(`  ${opened.ok} drivers and ${rOpen.ok} riders connected`);
    await pool.all({ cmd: 'bot', mode: 'complete' });
    await pool.stream({ mode: 'rate', rate: o.rate, ackEvery: 1_000_000 });
    await pool.all({ cmd: 'status', s: 'available' });
    await waitAvailable(tw, opened.ok);
    // Ops watching the whole fleet, as a dashboard would.
    let opsFrames = 0;
    ops = await LeanWs.connect({ host: '127.0.0.1', port: tw.port, path: '/v1/ops/ws', token: signHs256(tw.secret, 'soak-ops', 'ops', 6 * 3600), timeoutMs: 60_000 });
    ops.onFrame = (p) => {
      if ((unpackr.unpack(p) as { t?: string }).t) opsFrames++;
    };
    ops.write(clientFrame(packr.pack({ t: 'sub' })));
    const probe = await startProbe(tw.port, tw.secret, 250);
    const tokens = rIds.map((r) => signHs256(tw.secret, r, 'rider', 6 * 3600));
    const picks = cityPoints(Math.ceil(o.jobRate * o.minutes * 60) + 10, o.seed + 3000);
    const where = new Map<string, [number, number]>();
    rOpen.idsByLoader.forEach((list, j) => list.forEach((id, k) => where.set(id, [j, k])));

    const rows: SoakRow[] = [];
    const rowsTotal = Math.max(1, Math.round((o.minutes * 60) / o.rowS));
    let jobIndex = 0;
    let prev = await counters(tw);
    let busy0 = machineBusyS();
    let cpu0 = procSample(tw.pid)?.cpuS ?? NaN;
    let tRow = Date.now();
    await tw.child.call({ cmd: 'info', reset: true }, 'info');
    const offerAt = new Map<string, number>();
    const t0 = Date.now();
    for (let row = 0; row < rowsTotal; row++) {
      const base = jobIndex;
      const count = Math.round(o.jobRate * o.rowS);
      jobIndex += count;
      const posted: PostedJob[] = await postJobsAtRate({
        port: tw.port, rate: o.jobRate, durationS: o.rowS, count,
        body: (i) => ({ pickup: { lat: picks[2 * (base + i)]!, lng: picks[2 * (base + i) + 1]! }, dropoff: { lat: picks[2 * (base + i)]! + 0.01, lng: picks[2 * (base + i) + 1]! + 0.01 } }),
        token: (i) => tokens[(base + i) % tokens.length]!, rider: (i) => rIds[(base + i) % rIds.length]!,
      });
      // Riders follow their jobs (most have finished already: the drivers complete at once).
      const subs: Array<Array<[number, string]>> = riderPool.loaders.map(() => []);
      for (const p of posted) {
        const w = p.id ? where.get(p.rider) : undefined;
        if (w) subs[w[0]]!.push([w[1], p.id!]);
      }
      await Promise.all(riderPool.loaders.map((l, j) => l.call({ cmd: 'sub', pairs: subs[j]! }, 'ok')));
      await sleep(200); // the offers of the last jobs of the row
      const col = await pool.collect({ reset: true, offers: true });
      for (const [job, t] of col.offers) if (!offerAt.has(job) || offerAt.get(job)! > t) offerAt.set(job, t);
      const lat: number[] = [];
      for (const p of posted) {
        const t = p.id ? offerAt.get(p.id) : undefined;
        if (t !== undefined) lat.push(t - p.sentAt);
        if (p.id) offerAt.delete(p.id);
      }
      const info = await tw.child.call<{ mem: NodeJS.MemoryUsage; heapFloorBytes: number; loopDelayMs: { p99: number } }>({ cmd: 'info', reset: true }, 'info');
      const now = await counters(tw);
      const vis = probe.take();
      const busy1 = machineBusyS();
      const cpu1 = procSample(tw.pid)?.cpuS ?? NaN;
      const dtS = (Date.now() - tRow) / 1000;
      const serverCores = (cpu1 - cpu0) / dtS;
      const r: SoakRow = {
        atMin: round((Date.now() - t0) / 60_000),
        rssMb: Math.round(info.mem.rss / 1048576), rssAnonMb: Math.round(rssAnonMb(tw.pid)), heapUsedMb: Math.round(info.mem.heapUsed / 1048576),
        heapFloorMb: Math.round(info.heapFloorBytes / 1048576), heapTotalMb: Math.round(info.mem.heapTotal / 1048576), externalMb: Math.round(info.mem.external / 1048576),
        loopDelayP99Ms: info.loopDelayMs.p99, fixToVisibleP99Ms: round(vis.visible.p99), dispatchP99Ms: round(summarize(lat).p99),
        fixesPerS: Math.round(((now.accepted - prev.accepted) * 1000) / Math.max(1, now.t - prev.t)), jobs: posted.filter((p) => p.status === 201).length, offered: lat.length,
        serverCpuPct: Math.round(serverCores * 100), machineBusyCores: round((busy1 - busy0) / dtS),
      };
      busy0 = busy1;
      cpu0 = cpu1;
      tRow = Date.now();
      prev = now;
      rows.push(r);
      log(`  ${r.atMin} min: rss ${r.rssMb} MB (anon ${r.rssAnonMb}), heap ${r.heapUsedMb} MB (floor ${r.heapFloorMb}, total ${r.heapTotalMb}, external ${r.externalMb}), loop p99 ${r.loopDelayP99Ms} ms, visible p99 ${r.fixToVisibleP99Ms} ms, dispatch p99 ${r.dispatchP99Ms} ms, ${r.fixesPerS} fixes/s, ${r.offered}/${r.jobs} jobs offered`);
    }
    await probe.stop();
    const st = await pool.stopStream();
    if (st.errs && Object.keys(st.errs).length) notes.push(`fix errors seen by the drivers: ${JSON.stringify(st.errs)}`);
    await sleep(1000); // acks of the last frames
    const accepted = (await counters(tw)).accepted;
    const stored = (await tw.child.call<{ n: number }>({ cmd: 'stored', ids: [...ids, 'probe-1'] }, 'stored', 600_000)).n;
    const verdict = judgeSoak(rows, o.warmupMin, accepted, stored);
    return { options: o, commit, date: started, machine: machineInfo(), rows, verdict, opsFrames, notes };
  } finally {
    ops?.close();
    await pool.close();
    await riderPool.close();
    await tw.stop();
  }
}

async function counters(tw: RunningServer): Promise<{ accepted: number; t: number }> {
  return tw.child.call<{ accepted: number; t: number }>({ cmd: 'counters' }, 'counters');
}

/** The soak's report as a Markdown table plus its verdict (what BENCHMARKS.md records). */
export function soakMarkdown(r: SoakResult): string {
  const o = r.options;
  const lines = [
    `Soak at \`${r.commit.slice(0, 7)}\` on ${r.date.slice(0, 10)} (${r.machine.cpu}, ${r.machine.cores} cores): ${o.minutes} min, ${o.drivers} drivers at ${o.rate} fixes/s, ${o.jobRate} jobs/s, ${o.riders} riders following, one ops socket; warm-up ${o.warmupMin} min.`,
    `Command: \`npm run soak -- --minutes ${o.minutes}${o.rowS !== 60 ? ` --row-s ${o.rowS}` : ''}\``,
    '',
    '| min | RSS MB | anon MB | heap MB | heap floor MB | heap total MB | external MB | loop p99 ms | fix→visible p99 ms | dispatch p99 ms | fixes/s | jobs offered | server CPU % | machine busy cores |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.rows.map((x) => `| ${x.atMin} | ${x.rssMb} | ${x.rssAnonMb} | ${x.heapUsedMb} | ${x.heapFloorMb ?? '–'} | ${x.heapTotalMb ?? '–'} | ${x.externalMb ?? '–'} | ${x.loopDelayP99Ms} | ${x.fixToVisibleP99Ms} | ${x.dispatchP99Ms} | ${x.fixesPerS} | ${x.offered}/${x.jobs} | ${x.serverCpuPct} | ${x.machineBusyCores} |`),
    '',
    ...r.verdict.rules.map((x) => `- ${x.ok ? 'met' : 'MISSED'}: ${x.rule}: ${x.value}`),
    `- verdict: ${r.verdict.pass ? 'pass' : 'FAIL'}${r.verdict.judged ? '' : ' (too short for trends: only the loss rule judged)'}`,
  ];
  return lines.join('\n');
}

const USAGE = `usage: npm run soak -- [--minutes M (${SOAK_DEFAULTS.minutes})] [--row-s S (${SOAK_DEFAULTS.rowS})] [--warmup-min W (${SOAK_DEFAULTS.warmupMin})]
  [--drivers N (${SOAK_DEFAULTS.drivers})] [--rate FIXES_PER_S (${SOAK_DEFAULTS.rate})] [--job-rate R (${SOAK_DEFAULTS.jobRate})]
  [--riders N (${SOAK_DEFAULTS.riders})] [--loaders N (${SOAK_DEFAULTS.loaders})] [--seed S] [--json FILE] [--md FILE]
Exit code 0 when the verdict passes (memory flat after warm-up within ${SOAK_BOUNDS.rssSlopeMbPerMin} MB/min anon RSS and ${SOAK_BOUNDS.heapSlopeMbPerMin} MB/min heap, no p99 drift, accepted = stored), 1 otherwise.`;

async function main(argv: string[]): Promise<number> {
  const a = parseArgs(argv);
  if (a.options.help) {
    console.log(USAGE);
    return 0;
  }
  const num = (k: string, d: number): number => {
    const v = a.options[k];
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${k} must be a positive number, got ${v}`);
    return n;
  };
  const minutes = num('minutes', SOAK_DEFAULTS.minutes);
  const o: SoakOptions = {
    minutes, rowS: num('row-s', SOAK_DEFAULTS.rowS), warmupMin: a.options['warmup-min'] !== undefined ? Number(a.options['warmup-min']) : Math.min(SOAK_DEFAULTS.warmupMin, minutes / 4),
    drivers: num('drivers', SOAK_DEFAULTS.drivers), rate: num('rate', SOAK_DEFAULTS.rate), jobRate: num('job-rate', SOAK_DEFAULTS.jobRate),
    riders: num('riders', SOAK_DEFAULTS.riders), loaders: num('loaders', SOAK_DEFAULTS.loaders), seed: num('seed', SOAK_DEFAULTS.seed),
  };
  const r = await runSoak(o);
  const md = soakMarkdown(r);
  console.log(md);
  if (a.options.json) fs.writeFileSync(a.options.json, JSON.stringify(r, null, 2) + '\n');
  if (a.options.md) fs.writeFileSync(a.options.md, md + '\n');
  return r.verdict.pass ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then((c) => process.exit(c), (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  });
}
