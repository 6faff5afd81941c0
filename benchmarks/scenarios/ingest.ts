// Ingest scenario: N driver sockets stream fixes (flat out or at a set rate) into taxiway or the naive
// baseline; fixes/s accepted is read from the server's own counters; server CPU/RSS from /proc;
// fix-to-visible latency from a probe driver polling GET /v1/drivers/nearby.
import { LoaderPool } from '../lib/loaders.js';
import { ProcSampler, promValue, scrape } from '../lib/procs.js';
import { startHealthProbe } from '../lib/health-probe.js';
import type { HealthProbeResult } from '../lib/health-probe.js';
import { startProbe } from '../lib/probe.js';
import type { ProbeResult } from '../lib/probe.js';
import { startFloor, startNaive, startTaxiway } from '../lib/servers.js';
import type { RunningServer } from '../lib/servers.js';
import { cityPoints, log, round, sleep } from '../lib/util.js';
import type { LoaderStats } from '../loader.js';

export interface IngestOptions {
  /** taxiway; naive (the naive stack); floor (uWS + decode + typed arrays: the ceiling reference). */
  target: 'taxiway' | 'naive' | 'floor';
  drivers: number;
  loaders: number;
  mode: 'flat' | 'rate';
  /** Total fixes/s in rate mode. */
  rate: number;
  /** Points per frame: 1 sends `loc`, more sends `locs`. */
  batch: number;
  /** Frames per write and per ack (every ackEvery-th frame carries an id). */
  ackEvery: number;
  /** Id-frames in flight per socket (flat mode): ackEvery × window frames unacknowledged at most. */
  window: number;
  /** Flat mode: pause a socket this long after an `unavailable` reply (ms), as a driver app would. */
  backoffMs: number;
  warmupS: number;
  durationS: number;
  probe: boolean;
  /** taxiway: time GET /healthz, /readyz, /metrics through the window (main port, and the health port if any). */
  healthProbe?: boolean;
  seed: number;
  cpuProfDir?: string;
}

export const INGEST_DEFAULTS: IngestOptions = {
  target: 'taxiway', drivers: 10_000, loaders: 2, mode: 'flat', rate: 100_000, batch: 1, ackEvery: 32, window: 2, backoffMs: 250,
  warmupS: 5, durationS: 15, probe: true, healthProbe: true, seed: 1,
};

export interface IngestResult {
  target: string;
  options: IngestOptions;
  connected: number;
  connectFailed: number;
  /** Fixes the server accepted (taxiway: validated and handed to history; naive: GEOADD acknowledged by Redis). */
  fixesPerS: number;
  /** naive only: fixes decoded and put in the Map (Redis may lag behind). */
  processedPerS?: number;
  rejectedPerS: number;
  /** taxiway: refused fixes per second by reason (e.g. `overloaded`: shed because storage is behind). */
  rejectedPerSByReason?: Record<string, number>;
  sentPerS: number;
  /** CPU in % of one core; RSS at the start and end of the window and its peak (bounded memory under overload). */
  server: { cpuPct: number; sysPct: number; rssPeakMb: number; rssLastMb: number; rssFirstMb: number };
  loaders: Array<{ cpuPct: number; rssPeakMb: number }>;
  loader: LoaderStats;
  probe?: ProbeResult;
  /** taxiway with healthProbe: the health routes' latency on the main port and (if any) on the health port. */
  health?: HealthProbeResult[];
  /** taxiway: server event-loop delay during the window (beyond the 5 ms sampling resolution). */
  loopDelayMs?: { p50: number; p99: number; max: number };
  /** taxiway: time for storage to commit what was accepted, after the load stopped. */
  flushMs?: number;
  /** naive: GEOADDs still queued when the window closed. */
  redisPending?: number;
  crashed: boolean;
  /** Cores busy machine-wide during the window, and those used by processes outside this benchmark. */
  machine: { busyCores: number; foreignCores: number };
  /** Server RSS about once a second through the window. */
  serverRssSeriesMb: number[];
  notes: string[];
}

export async function runIngest(o: IngestOptions): Promise<IngestResult> {
  const notes: string[] = [];
  log(`ingest ${o.target}: ${o.drivers} drivers, ${o.loaders} loaders, ${o.mode}${o.mode === 'rate' ? ` ${o.rate}/s` : ''}, batch ${o.batch}, ${o.durationS}s`);
  const server: RunningServer & { redisPrefix?: string } =
    o.target === 'taxiway' ? await startTaxiway({ cpuProfDir: o.cpuProfDir }) : o.target === 'floor' ? await startFloor() : await startNaive({ redisUrl: BENCH_REDIS_URL });
  // Paced runs measure latency: the generators (as CPU-hungry as the server at 100k single-frame sends/s) yield.
  const pool = await LoaderPool.start(o.loaders, { nice: o.mode === 'rate' ? 10 : 0 });
  let crashed = false;
  try {
    const ids = Array.from({ length: o.drivers }, (_, i) => 'd' + i);
    const opened = await pool.open('driver', ids, cityPoints(o.drivers, o.seed), { port: server.port, secret: server.secret });
    log(`  ${opened.ok} sockets open in ${opened.ms} ms${opened.failed ? `, ${opened.failed} failed ${JSON.stringify(opened.statuses)}` : ''}`);
    // A probe round every 50 ms: ~200 samples in a 10 s window, so p99 is not just the single worst round.
    const probe = o.probe && o.target === 'taxiway' ? await startProbe(server.port, server.secret, 50) : null;
    const counter = o.target === 'taxiway' ? 'taxiway_fixes_accepted_total' : o.target === 'floor' ? 'floor_fixes_stored_total' : 'naive_fixes_stored_total';
    const read = async (): Promise<{ acc: number; rej: number; proc: number; pending: number; t: number; byReason?: Record<string, number> }> => {
      if (o.target === 'taxiway') {
        // The server's own counters, read over IPC (GET /metrics stalls while the event loop is saturated).
        const c = await server.child.call<{ accepted: number; rejected: number; byReason: Record<string, number> }>({ cmd: 'counters' }, 'counters', 60_000);
        return { acc: c.accepted, rej: c.rejected, proc: 0, pending: 0, t: performance.now(), byReason: c.byReason };
      }
      const text = await scrape(`${server.url}/metrics`);
      return {
        acc: promValue(text, counter),
        rej: promValue(text, o.target === 'floor' ? 'floor_bad_frames_total' : 'naive_bad_frames_total'),
        proc: promValue(text, 'naive_fixes_processed_total'),
        pending: promValue(text, 'naive_redis_pending'),
        t: performance.now(),
      };
    };
    await pool.stream({ mode: o.mode, rate: o.rate, batch: o.batch, ackEvery: o.ackEvery, window: o.window, backoffMs: o.backoffMs });
    await sleep(o.warmupS * 1000);
    const sampler = new ProcSampler([server.pid, ...pool.pids]).start();
    if (o.target === 'taxiway') await server.child.call({ cmd: 'info', reset: true }, 'info');
    const healthProbes = o.healthProbe && o.target === 'taxiway' ? [server.port, ...(server.healthPort ? [server.healthPort] : [])].map((port) => startHealthProbe(port)) : [];
    const sent0 = (await pool.collect({ reset: false })).stats.sentFixes;
    // Only the window counts: rounds during connection and warm-up (JIT, the first collections) are dropped.
    probe?.take();
    const s0 = performance.now();
    const before = await read();
    if (process.env.BENCH_VERBOSE && o.target === 'taxiway') {
      for (let t = 0; t < o.durationS; t += 2) {
        await sleep(2000);
        const i = await server.child.call<{ storageBacklog: number | null; elu: number; cpuS: number; mem: NodeJS.MemoryUsage }>({ cmd: 'info' }, 'info');
        const c = await read();
        log(`  t+${t + 2}s storage backlog ${i.storageBacklog}, accepted ${c.acc}, refused ${c.rej}, loop utilisation ${i.elu.toFixed(2)}, user cpu ${i.cpuS.toFixed(1)} s, rss ${Math.round(i.mem.rss / 1048576)} MB (heap ${Math.round(i.mem.heapUsed / 1048576)}, external ${Math.round(i.mem.external / 1048576)}, array buffers ${Math.round(i.mem.arrayBuffers / 1048576)})`);
      }
    } else await sleep(o.durationS * 1000);
    let after = before;
    try {
      after = await read();
    } catch {
      crashed = server.child.exited !== null;
      notes.push(`the server stopped answering during the run${crashed ? ` (exit ${server.child.exited})` : ''}`);
    }
    const probed = probe?.take();
    const health = await Promise.all(healthProbes.map((h) => h.stop()));
    const loaderStats = await pool.stopStream();
    const sentS = (performance.now() - s0) / 1000;
    const usage = sampler.stop();
    const info = o.target === 'taxiway' && server.child.exited === null ? await server.child.call<{ loopDelayMs: { p50: number; p99: number; max: number } }>({ cmd: 'info' }, 'info') : null;
    const dt = (after.t - before.t) / 1000 || o.durationS;
    const res: IngestResult = {
      target: o.target, options: o, connected: opened.ok, connectFailed: opened.failed,
      fixesPerS: Math.round((after.acc - before.acc) / dt),
      rejectedPerS: Math.round((after.rej - before.rej) / dt),
      rejectedPerSByReason: Object.fromEntries(Object.entries(after.byReason ?? {}).map(([k, v]) => [k, Math.round((v - (before.byReason?.[k] ?? 0)) / dt)]).filter(([, v]) => (v as number) > 0)),
      sentPerS: Math.round((loaderStats.sentFixes - sent0) / sentS),
      loopDelayMs: info?.loopDelayMs,
      server: usage[server.pid] ?? { cpuPct: NaN, sysPct: NaN, rssPeakMb: NaN, rssLastMb: NaN, rssFirstMb: NaN },
      loaders: pool.pids.map((p) => ({ cpuPct: usage[p]?.cpuPct ?? NaN, rssPeakMb: usage[p]?.rssPeakMb ?? NaN })),
      loader: loaderStats, crashed, notes, machine: sampler.machine, ...(health.length ? { health } : {}), serverRssSeriesMb: sampler.rssSeries.get(server.pid) ?? [],
    };
    if (o.target === 'naive') {
      res.processedPerS = Math.round((after.proc - before.proc) / dt);
      res.redisPending = after.pending;
      if (server.child.exited !== null) {
        res.crashed = true;
        notes.push(`naive server exited with ${server.child.exited}: ${server.child.stderr.join('').slice(-300)}`);
      }
    }
    if (probe) {
      await probe.stop();
      res.probe = probed;
    }
    if (o.target === 'taxiway' && server.child.exited === null) {
      const f = await server.child.call<{ ms: number }>({ cmd: 'flush' }, 'flushed', 300_000);
      res.flushMs = f.ms;
    }
    log(`  accepted ${res.fixesPerS}/s (sent ${res.sentPerS}/s${res.rejectedPerS ? `, refused ${res.rejectedPerS}/s ${JSON.stringify(res.rejectedPerSByReason ?? {})}` : ''}) server cpu ${res.server.cpuPct}% (kernel ${res.server.sysPct}%) rss ${res.server.rssPeakMb} MB, other work ${res.machine.foreignCores} cores` +
      (res.loopDelayMs ? `, loop delay p99 ${res.loopDelayMs.p99} ms max ${res.loopDelayMs.max} ms` : '') +
      health.map((h, i) => `; ${i === 0 ? 'main port' : 'health port'} /healthz+/readyz+/metrics p99 ${round(h.allP99)} ms`).join('') +
      (res.probe ? `; fix→visible p50 ${round(res.probe.visible.p50)} ms p99 ${round(res.probe.visible.p99)} ms` : '') +
      (res.processedPerS !== undefined ? `; processed ${res.processedPerS}/s, redis pending ${res.redisPending}` : ''));
    return res;
  } finally {
    await pool.close();
    await server.stop();
    if (server.redisPrefix) await cleanupRedis(server.redisPrefix);
  }
}

/** The Redis the peers use (naive ingest, GEOSEARCH): BENCH_REDIS_URL, else 127.0.0.1:6379. */
export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';

export async function redisReachable(url: string): Promise<boolean> {
  const { Redis } = await import('ioredis');
  const r = new Redis(url, { maxRetriesPerRequest: 0, lazyConnect: true, connectTimeout: 2000, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** Delete every key under a bench prefix (the naive server deletes its own unless it crashed). */
export async function cleanupRedis(prefix: string, url = BENCH_REDIS_URL): Promise<void> {
  const { Redis } = await import('ioredis');
  const r = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  r.on('error', () => {});
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', prefix + '*', 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } catch {
    /* no Redis: nothing to clean */
  } finally {
    r.disconnect();
  }
}

export interface NaiveStep { rate: number; sentPerS: number; storedPerS: number; processedPerS: number; pendingStart: number; pendingEnd: number; cpuPct: number; rssMb: number; kept: boolean }

/**
 * The naive stack's sustained rate: offered load stepped up (×1.5 from `start`) until it stops keeping up
 * (stored < 95% of offered, or Redis' queue grows by more than a quarter second's worth). Flat out it does not
 * shed: the queue grows until the heap limit; this finds the highest rate it sustains.
 */
export async function runNaiveLadder(o: { drivers: number; loaders: number; stepS: number; start: number; max: number; seed: number }): Promise<{ sustained: number; steps: NaiveStep[]; notes: string[] }> {
  log(`naive ladder: ${o.drivers} drivers, from ${o.start}/s ×1.5 up to ${o.max}/s, ${o.stepS}s a step`);
  const notes: string[] = [];
  if (!(await redisReachable(BENCH_REDIS_URL))) {
    log(`  Redis not reachable at ${BENCH_REDIS_URL}: naive baseline skipped`);
    return { sustained: NaN, steps: [], notes: [`Redis not reachable at ${BENCH_REDIS_URL} (set BENCH_REDIS_URL): naive baseline not measured`] };
  }
  const server = await startNaive({ redisUrl: BENCH_REDIS_URL });
  const pool = await LoaderPool.start(o.loaders);
  const steps: NaiveStep[] = [];
  let sustained = 0;
  try {
    const ids = Array.from({ length: o.drivers }, (_, i) => 'd' + i);
    await pool.open('driver', ids, cityPoints(o.drivers, o.seed), { port: server.port, secret: server.secret });
    const read = async (): Promise<{ stored: number; proc: number; pending: number; t: number }> => {
      const text = await scrape(`${server.url}/metrics`);
      return { stored: promValue(text, 'naive_fixes_stored_total'), proc: promValue(text, 'naive_fixes_processed_total'), pending: promValue(text, 'naive_redis_pending'), t: performance.now() };
    };
    let misses = 0;
    for (let rate = o.start; rate <= o.max; rate = Math.round(rate * 1.5)) {
      await pool.stream({ mode: 'rate', rate, ackEvery: 1_000_000 });
      await sleep(1000);
      const sampler = new ProcSampler([server.pid]).start();
      const sent0 = (await pool.collect({ reset: false })).stats.sentFixes;
      let a;
      let b;
      try {
        a = await read();
        await sleep(o.stepS * 1000);
        b = await read();
      } catch (e) {
        // Unresponsive (event loop or heap exhausted): that rate is past what it sustains.
        await pool.stopStream();
        notes.push(`at ${rate}/s the naive server stopped answering (${(e as Error).message})${server.child.exited !== null ? `, exit ${server.child.exited}` : ''}`);
        log(`  ${rate}/s: the server stopped answering — not kept up`);
        break;
      }
      const sent1 = (await pool.collect({ reset: false })).stats.sentFixes;
      await pool.stopStream();
      const u = sampler.stop()[server.pid]!;
      const dt = (b.t - a.t) / 1000;
      const step: NaiveStep = {
        rate, sentPerS: Math.round((sent1 - sent0) / dt), storedPerS: Math.round((b.stored - a.stored) / dt), processedPerS: Math.round((b.proc - a.proc) / dt),
        pendingStart: a.pending, pendingEnd: b.pending, cpuPct: u.cpuPct, rssMb: u.rssPeakMb, kept: false,
      };
      // Kept up: stored at least 90% of the offered rate while Redis' queue did not grow by a quarter second's worth.
      step.kept = step.storedPerS >= 0.9 * rate && step.pendingEnd - step.pendingStart < 0.25 * rate;
      steps.push(step);
      log(`  ${rate}/s: stored ${step.storedPerS}/s of ${step.sentPerS}/s sent, redis queue ${step.pendingStart} → ${step.pendingEnd}, cpu ${step.cpuPct}%${step.kept ? '' : ' — not kept up'}`);
      if (!step.kept) {
        // One retry of a failed step: on a shared machine a single window can be unlucky.
        if (++misses < 2) {
          rate = Math.round(rate / 1.5);
          await sleep(1000);
          continue;
        }
        break;
      }
      misses = 0;
      sustained = Math.max(sustained, step.storedPerS);
      // Let Redis' queue drain before the next step.
      for (let i = 0; i < 50 && (await read().catch(() => ({ pending: 0 }))).pending > 0; i++) await sleep(200);
    }
    if (sustained === 0) notes.push('the naive stack did not keep up even at the first step');
    return { sustained, steps, notes };
  } finally {
    await pool.close();
    await server.stop();
    if (server.redisPrefix) await cleanupRedis(server.redisPrefix);
  }
}
