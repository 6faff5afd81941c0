// Fan-out scenario: T active trips (drivers that accepted and started), every driver streaming 1 fix/s,
// riders following their trips; the latency is from a fix's ts (stamped when it is sent) to the rider
// receiving the `pos` frame that carries it. Riders follow `jobsPerRider` trips each when the open-files
// limit cannot hold one socket per rider on top of the drivers.
import { postJobsAtRate } from '../lib/job-client.js';
import { signHs256 } from '../lib/jwt.js';
import { LoaderPool } from '../lib/loaders.js';
import { ProcSampler, promValue, scrape } from '../lib/procs.js';
import { startTaxiway, waitAvailable } from '../lib/servers.js';
import { cityPoints, log, round, sleep, summarize } from '../lib/util.js';
import type { Summary } from '../lib/util.js';
import { socketBudget } from './dispatch.js';

export interface FanoutOptions {
  trips: number;
  durationS: number;
  loaders: number;
  seed: number;
  cpuProfDir?: string;
}

export const FANOUT_DEFAULTS: FanoutOptions = { trips: 10_000, durationS: 20, loaders: 2, seed: 1 };

export interface FanoutResult {
  options: FanoutOptions;
  drivers: number;
  riders: number;
  jobsPerRider: number;
  activeTrips: number;
  fixToPosMs: Summary;
  posPerS: number;
  fixesPerS: number;
  server: { cpuPct: number; rssPeakMb: number };
  loopDelayMs?: { p50: number; p99: number; max: number };
  machine: { busyCores: number; foreignCores: number };
  notes: string[];
}

export async function runFanout(o: FanoutOptions): Promise<FanoutResult> {
  const notes: string[] = [];
  const drivers = o.trips + Math.ceil(o.trips * 0.05);
  const budget = socketBudget();
  const riderSockets = Math.max(1, Math.min(o.trips, budget - drivers));
  const jobsPerRider = Math.ceil(o.trips / riderSockets);
  const riders = Math.ceil(o.trips / jobsPerRider);
  if (jobsPerRider > 1) notes.push(`open-files limit: ${riders} rider sockets follow ${jobsPerRider} trips each`);
  log(`fanout: ${o.trips} trips, ${drivers} drivers, ${riders} riders (${jobsPerRider} trips each), ${o.durationS}s`);
  const tw = await startTaxiway({ cpuProfDir: o.cpuProfDir, env: { TAXIWAY_OFFER_TIMEOUT_MS: '60000' } });
  const pool = await LoaderPool.start(o.loaders);
  const riderPool = await LoaderPool.start(1);
  try {
    const pts = cityPoints(drivers, o.seed);
    const dIds = Array.from({ length: drivers }, (_, i) => 'd' + i);
    const od = await pool.open('driver', dIds, pts, { port: tw.port, secret: tw.secret, concurrency: 128 });
    const rIds = Array.from({ length: riders }, (_, i) => 'r' + i);
    const orr = await riderPool.open('rider', rIds, null, { port: tw.port, secret: tw.secret, concurrency: 128 });
    log(`  ${od.ok} drivers and ${orr.ok} riders connected`);
    await pool.all({ cmd: 'bot', mode: 'hold' });
    const settle = Math.min(1, o.durationS / 10);
    await pool.stream({ mode: 'rate', rate: od.ok, ackEvery: 1_000_000 });
    await pool.all({ cmd: 'status', s: 'available' });
    const avail = await waitAvailable(tw, od.ok);
    if (avail < od.ok) notes.push(`only ${avail} of ${od.ok} drivers became available`);
    // One trip per driver's neighbourhood: pickups next to drivers, created at a steady pace.
    const tokens = rIds.map((r) => signHs256(tw.secret, r, 'rider', 6 * 3600));
    const t0 = Date.now();
    const posted = await postJobsAtRate({
      port: tw.port, rate: 1000, durationS: o.trips / 1000, count: o.trips,
      body: (i) => ({ pickup: { lat: pts[2 * i]! + 0.0002, lng: pts[2 * i + 1]! }, dropoff: { lat: pts[2 * i]! + 0.02, lng: pts[2 * i + 1]! + 0.02 } }),
      token: (i) => tokens[Math.floor(i / jobsPerRider)]!, rider: (i) => rIds[Math.floor(i / jobsPerRider)]!,
    });
    log(`  ${posted.length} jobs posted in ${Date.now() - t0} ms`);
    // Riders follow their trips: loader j holds the riders of its slice (same split as open()).
    const perLoader = orr.idsByLoader;
    const where = new Map<string, [number, number]>();
    perLoader.forEach((ids, j) => ids.forEach((id, k) => where.set(id, [j, k])));
    const subs: Array<Array<[number, string]>> = perLoader.map(() => []);
    for (const p of posted) {
      if (!p.id) continue;
      const w = where.get(p.rider);
      if (w) subs[w[0]]!.push([w[1], p.id]);
    }
    await Promise.all(riderPool.loaders.map((l, j) => l.call({ cmd: 'sub', pairs: subs[j]! }, 'ok')));
    // Wait for the trips to be accepted and started.
    let started = 0;
    for (let i = 0; i < 600; i++) {
      await sleep(100);
      const text = await scrape(`${tw.url}/metrics`);
      started = promValue(text, 'taxiway_jobs_total', { state: 'in_progress' });
      const gaveUp = promValue(text, 'taxiway_jobs_total', { state: 'unfulfilled' });
      if (started + gaveUp >= posted.length) break;
    }
    log(`  ${started} trips in progress`);
    if (started < o.trips) notes.push(`${o.trips - started} of ${o.trips} trips did not reach in_progress (no free driver within range)`);
    await sleep(2000 * settle);
    await riderPool.collect({ reset: true });
    await tw.child.call({ cmd: 'info', reset: true }, 'info');
    const acc0 = promValue(await scrape(`${tw.url}/metrics`), 'taxiway_fixes_accepted_total');
    const sampler = new ProcSampler([tw.pid, ...pool.pids, ...riderPool.pids]).start();
    const w0 = performance.now();
    await sleep(o.durationS * 1000);
    const usage = sampler.stop();
    const dt = (performance.now() - w0) / 1000;
    const info = await tw.child.call<{ loopDelayMs: { p50: number; p99: number; max: number } }>({ cmd: 'info' }, 'info');
    const acc1 = promValue(await scrape(`${tw.url}/metrics`), 'taxiway_fixes_accepted_total');
    const col = await riderPool.collect({ reset: false, pos: true });
    const res: FanoutResult = {
      options: o, drivers: od.ok, riders: orr.ok, jobsPerRider, activeTrips: started,
      fixToPosMs: summarize(col.pos), posPerS: Math.round(col.pos.length / dt), fixesPerS: Math.round((acc1 - acc0) / dt),
      server: { cpuPct: usage[tw.pid]?.cpuPct ?? NaN, rssPeakMb: usage[tw.pid]?.rssPeakMb ?? NaN }, loopDelayMs: info.loopDelayMs, machine: sampler.machine, notes,
    };
    log(`  fix→rider pos p50 ${round(res.fixToPosMs.p50)} ms p99 ${round(res.fixToPosMs.p99)} ms (${res.posPerS} pos/s, ${res.fixesPerS} fixes/s, server cpu ${res.server.cpuPct}%, loop delay p99 ${info.loopDelayMs.p99} ms, other work ${sampler.machine.foreignCores} cores)`);
    await pool.stopStream();
    return res;
  } finally {
    await pool.close();
    await riderPool.close();
    await tw.stop();
  }
}
