// Dispatch scenario: a fleet streaming 1 fix/s per driver while riders create jobs at a set rate; the
// latency is from the POST leaving the client to the `offer` arriving on the driver's socket. Drivers
// accept, arrive, start and complete at once, so they come back. Sockets are capped by the server's
// open-files limit; drivers beyond it stream in-process (same ingest path, no socket) and stay busy, so
// every offer goes to a socket driver.
import { postJobsAtRate } from '../lib/job-client.js';
import { signHs256 } from '../lib/jwt.js';
import { LoaderPool } from '../lib/loaders.js';
import { ProcSampler, histQuantile, openFilesLimit, promHistogram, promValue, scrape } from '../lib/procs.js';
import { startTaxiway, waitAvailable } from '../lib/servers.js';
import { cityPoints, log, round, sleep, summarize } from '../lib/util.js';
import type { Summary } from '../lib/util.js';

export interface DispatchOptions {
  drivers: number;
  /** Most driver sockets (the rest stream in-process); default: what the open-files limit allows. */
  maxSockets: number;
  jobRate: number;
  durationS: number;
  warmupS: number;
  loaders: number;
  seed: number;
  /** Consecutive measurement windows of `durationS` each on the same node and fleet, reported one by one. */
  windows: number;
  cpuProfDir?: string;
}

export const DISPATCH_DEFAULTS: DispatchOptions = { drivers: 50_000, maxSockets: 0, jobRate: 200, durationS: 20, warmupS: 5, loaders: 2, seed: 1, windows: 1 };

export interface DispatchResult {
  options: DispatchOptions;
  socketDrivers: number;
  inProcessDrivers: number;
  jobs: number;
  offered: number;
  /** Jobs that got no offer (no available driver in range): `unfulfilled`. */
  noOffer: number;
  requestToOfferMs: Summary;
  /** Request → offer in each consecutive window (`windows` of them). */
  windows: Array<{ offered: number; noOffer: number; p50: number; p99: number; max: number; sentP99: number }>;
  /**
   * Request → the server writing the offer (its `expires_ts` less the offer timeout; same machine clock): the
   * server's part of request → offer. The rest is the driver's side reading it (here, a load generator).
   */
  requestToOfferSentMs: Summary;
  httpMs: Summary;
  serverOfferLatencyP99Ms: number;
  server: { cpuPct: number; rssPeakMb: number };
  loaders: Array<{ cpuPct: number }>;
  fixesPerS: number;
  /** Server event-loop delay during the window (beyond the 5 ms sampling resolution). */
  loopDelayMs?: { p50: number; p99: number; max: number };
  machine: { busyCores: number; foreignCores: number };
  notes: string[];
}

/** Sockets one process can hold here: the open-files limit less a margin for files, listeners and HTTP. */
export function socketBudget(): number {
  return Math.max(100, openFilesLimit() - 600);
}

export async function runDispatch(o: DispatchOptions): Promise<DispatchResult> {
  const notes: string[] = [];
  const budget = o.maxSockets > 0 ? o.maxSockets : socketBudget();
  const socketDrivers = Math.min(o.drivers, budget);
  const synthetic = o.drivers - socketDrivers;
  if (synthetic > 0) notes.push(`open-files limit ${openFilesLimit()}: ${socketDrivers} drivers on sockets, ${synthetic} streaming in-process (ingest path without the socket), kept busy`);
  log(`dispatch: ${o.drivers} drivers (${socketDrivers} sockets, ${synthetic} in-process) at 1 fix/s, ${o.jobRate} jobs/s for ${o.durationS}s`);
  const tw = await startTaxiway({ cpuProfDir: o.cpuProfDir });
  const pool = await LoaderPool.start(o.loaders);
  try {
    const pts = cityPoints(socketDrivers, o.seed);
    const ids = Array.from({ length: socketDrivers }, (_, i) => 'd' + i);
    const opened = await pool.open('driver', ids, pts, { port: tw.port, secret: tw.secret, concurrency: 128 });
    log(`  ${opened.ok} driver sockets open in ${opened.ms} ms${opened.failed ? ` (${opened.failed} failed: ${JSON.stringify(opened.statuses)})` : ''}`);
    await pool.all({ cmd: 'bot', mode: 'complete' });
    await pool.stream({ mode: 'rate', rate: opened.ok, ackEvery: 1_000_000 });
    if (synthetic > 0) await tw.child.call({ cmd: 'synthetic', n: synthetic, seed: o.seed + 99, prefix: 's', hz: 1, status: 'busy' }, 'synthetic-started');
    const settle = Math.min(1, o.durationS / 10);
    await pool.all({ cmd: 'status', s: 'available' });
    const avail = await waitAvailable(tw, opened.ok);
    if (avail < opened.ok) notes.push(`only ${avail} of ${opened.ok} drivers became available`);
    await sleep(o.warmupS * 1000);
    // Warm the job path too (request, offer, accept, trip, complete: its first seconds run unoptimised code and
    // showed 200-860 ms stalls in the first measured window at e43b763): jobs at the same rate, not measured.
    const warmJobsS = Math.min(3, o.durationS / 2);
    const warmN = Math.round(o.jobRate * warmJobsS);
    const warmPicks = cityPoints(warmN + 1, o.seed + 7000);
    const warmTokens = Array.from({ length: warmN }, (_, i) => signHs256(tw.secret, 'w' + i, 'rider', 3600));
    await postJobsAtRate({
      port: tw.port, rate: o.jobRate, durationS: warmJobsS,
      body: (i) => ({ pickup: { lat: round6(warmPicks[2 * i]!), lng: round6(warmPicks[2 * i + 1]!) }, dropoff: null }),
      token: (i) => warmTokens[i]!, rider: (i) => 'w' + i,
    });
    await sleep(1000);
    await pool.collect({ reset: true });
    const hist0 = promHistogram(await scrape(`${tw.url}/metrics`), 'taxiway_dispatch_offer_latency_seconds');
    const acc0 = promValue(await scrape(`${tw.url}/metrics`), 'taxiway_fixes_accepted_total');
    await tw.child.call({ cmd: 'info', reset: true }, 'info');
    const t0 = performance.now();
    const sampler = new ProcSampler([tw.pid, ...pool.pids]).start();
    const riders = 1000;
    const tokens = Array.from({ length: riders }, (_, i) => signHs256(tw.secret, 'r' + i, 'rider', 6 * 3600));
    const picks = cityPoints(Math.round(o.jobRate * o.durationS * Math.max(1, o.windows)) + 1, o.seed + 3000);
    const perWindow: Array<Awaited<ReturnType<typeof postJobsAtRate>>> = [];
    for (let w = 0; w < Math.max(1, o.windows); w++) {
      const base = w * Math.round(o.jobRate * o.durationS);
      const pk = picks.subarray(2 * base);
      perWindow.push(await postJobsAtRate({
        port: tw.port, rate: o.jobRate, durationS: o.durationS,
        body: (i) => ({ pickup: { lat: round6(pk[2 * i]!), lng: round6(pk[2 * i + 1]!) }, dropoff: null }),
        token: (i) => tokens[(base + i) % riders]!, rider: (i) => 'r' + ((base + i) % riders),
      }));
    }
    const posted = perWindow.flat();
    await sleep(1000 * settle);
    const usage = sampler.stop();
    const info = await tw.child.call<{ loopDelayMs: { p50: number; p99: number; max: number } }>({ cmd: 'info' }, 'info');
    const text = await scrape(`${tw.url}/metrics`);
    const acc1 = promValue(text, 'taxiway_fixes_accepted_total');
    const fixesPerS = Math.round((acc1 - acc0) / ((performance.now() - t0) / 1000));
    const hist1 = promHistogram(text, 'taxiway_dispatch_offer_latency_seconds');
    const hist = hist1.map(([le, c], i) => [le, c - (hist0[i]?.[1] ?? 0)] as [number, number]);
    const col = await pool.collect({ reset: false, offers: true });
    // First offer of each job (a declined/expired offer would be followed by another; bots accept all).
    const offerAt = new Map<string, number>();
    const offerSentAt = new Map<string, number>();
    const offerTimeoutMs = Number(process.env.TAXIWAY_OFFER_TIMEOUT_MS ?? 10_000);
    for (const [job, t, expires] of col.offers) {
      if (!offerAt.has(job) || offerAt.get(job)! > t) {
        offerAt.set(job, t);
        offerSentAt.set(job, expires - offerTimeoutMs);
      }
    }
    const sentLat: number[] = [];
    const lat: number[] = [];
    let noOffer = 0;
    const windows: DispatchResult['windows'] = [];
    for (const win of perWindow) {
      const wl: number[] = [];
      const sl: number[] = [];
      let wn = 0;
      for (const p of win) {
        if (!p.id) continue;
        const t = offerAt.get(p.id);
        if (t === undefined) wn++;
        else {
          wl.push(t - p.sentAt);
          sl.push(offerSentAt.get(p.id)! - p.sentAt);
        }
      }
      const ws = summarize(wl);
      windows.push({ offered: wl.length, noOffer: wn, p50: round(ws.p50), p99: round(ws.p99), max: round(ws.max), sentP99: round(summarize(sl).p99) });
      sentLat.push(...sl);
      lat.push(...wl);
      noOffer += wn;
    }
    const res: DispatchResult = {
      options: o, socketDrivers: opened.ok, inProcessDrivers: synthetic, jobs: posted.length, offered: lat.length, noOffer,
      requestToOfferMs: summarize(lat), requestToOfferSentMs: summarize(sentLat), windows, httpMs: summarize(posted.filter((p) => p.status === 201).map((p) => p.doneAt - p.sentAt)),
      serverOfferLatencyP99Ms: histQuantile(hist, 0.99) * 1000,
      server: { cpuPct: usage[tw.pid]?.cpuPct ?? NaN, rssPeakMb: usage[tw.pid]?.rssPeakMb ?? NaN },
      loaders: pool.pids.map((p) => ({ cpuPct: usage[p]?.cpuPct ?? NaN })), fixesPerS, loopDelayMs: info.loopDelayMs, machine: sampler.machine, notes,
    };
    const bad = posted.filter((p) => p.status !== 201).length;
    if (bad) notes.push(`${bad} POSTs did not return 201`);
    log(`  request→offer p50 ${round(res.requestToOfferMs.p50)} ms p99 ${round(res.requestToOfferMs.p99)} ms${windows.length > 1 ? ` (window p99s ${windows.map((w) => w.p99).join(', ')})` : ''}; to the offer written p99 ${round(res.requestToOfferSentMs.p99)} ms${windows.length > 1 ? ` (${windows.map((w) => w.sentP99).join(', ')})` : ''} (n=${lat.length}, no offer ${noOffer}); server cpu ${res.server.cpuPct}%, ${fixesPerS} fixes/s, loop delay p99 ${info.loopDelayMs.p99} ms max ${info.loopDelayMs.max} ms; POST p50 ${round(res.httpMs.p50)} ms; other work ${sampler.machine.foreignCores} cores`);
    await pool.stopStream();
    if (synthetic > 0) {
      const st = await tw.child.call<{ dropped: number }>({ cmd: 'synthetic-stop' }, 'synthetic-stopped');
      if (st.dropped > 0) notes.push(`in-process drivers skipped ${st.dropped} fixes while the server's event loop was busy`);
    }
    return res;
  } finally {
    await pool.close();
    await tw.stop();
  }
}

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;
