// HTTP scenarios under autocannon against a server preloaded with a realistic fleet (100,000 drivers,
// 80% available, seeded): GET /v1/drivers/nearby (taxiway and the fastify baseline on the same index),
// GET /v1/eta, GET /healthz, and POST /v1/jobs with a pool of driver sockets that accept every offer.
import autocannon from 'autocannon';
import type { Result } from 'autocannon';
import { signHs256 } from '../lib/jwt.js';
import { LoaderPool } from '../lib/loaders.js';
import { ProcSampler, forkChild, promValue, scrape } from '../lib/procs.js';
import { startFastify, startTaxiway, waitAvailable } from '../lib/servers.js';
import type { RunningServer } from '../lib/servers.js';
import { cityPoints, log, round, sleep } from '../lib/util.js';

export type HttpScenario = 'nearby' | 'eta' | 'healthz' | 'jobs';

export interface HttpOptions {
  scenarios: HttpScenario[];
  /** Also run the fastify baseline for nearby (and healthz). */
  fastify: boolean;
  preload: number;
  durationS: number;
  connections: number;
  pipelining: number;
  /** Driver sockets that accept offers in the jobs scenario. */
  pool: number;
  loaders: number;
  /** autocannon processes sharing the connections (one process saturates well below a uWS server). */
  cannons: number;
  seed: number;
  cpuProfDir?: string;
}

export const HTTP_DEFAULTS: HttpOptions = { scenarios: ['nearby', 'eta', 'healthz', 'jobs'], fastify: true, preload: 100_000, durationS: 10, connections: 64, pipelining: 1, pool: 2000, loaders: 1, cannons: 1, seed: 1 };

export interface HttpRun {
  server: string;
  scenario: string;
  rps: number;
  latencyMs: { p50: number; p99: number; max: number; mean: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  serverCpuPct: number;
  serverRssMb: number;
  /** Cores used by processes outside this benchmark during the run (noise on a shared machine). */
  foreignCores: number;
  extra?: Record<string, unknown>;
}

const LONG_LIVED = { TAXIWAY_STALE_MS: '3600000', TAXIWAY_EXPIRE_MS: '86400000' };

/** What a run reports, from one autocannon or summed over several. */
interface CannonResult {
  rps: number;
  latency: { p50: number; p99: number; max: number; mean: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

type Reqs = Array<{ method: string; path?: string; body?: string; headers: Record<string, string> }>;

async function cannon(url: string, requests: Reqs, o: HttpOptions): Promise<CannonResult> {
  if (o.cannons <= 1) {
    const r = await cannon1(url, requests, o);
    return { rps: r.requests.average, latency: r.latency, non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts };
  }
  // Several processes, the connections split between them; req/s add up. Latency percentiles cannot be
  // merged exactly from summaries: p50 and p99 are the worst process's (conservative), mean is weighted.
  const kids = Array.from({ length: o.cannons }, (_, k) => forkChild('cannon-child.js', { name: `cannon-${k}` }));
  try {
    await Promise.all(kids.map((c) => c.wait('ready', 30_000)));
    const per = Math.max(1, Math.floor(o.connections / o.cannons));
    const rs = await Promise.all(kids.map((c, k) => c.call<CannonResult & { total: number }>({
      cmd: 'run', url, requests, connections: per, pipelining: o.pipelining, durationS: o.durationS, offset: Math.floor((k * requests.length) / o.cannons),
    }, 'result', (o.durationS + 60) * 1000)));
    const rps = rs.reduce((a, r) => a + r.rps, 0);
    return {
      rps,
      latency: {
        p50: Math.max(...rs.map((r) => r.latency.p50)),
        p99: Math.max(...rs.map((r) => r.latency.p99)),
        max: Math.max(...rs.map((r) => r.latency.max)),
        mean: rs.reduce((a, r) => a + r.latency.mean * r.rps, 0) / (rps || 1),
      },
      non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
      errors: rs.reduce((a, r) => a + r.errors, 0),
      timeouts: rs.reduce((a, r) => a + r.timeouts, 0),
    };
  } finally {
    await Promise.all(kids.map((c) => c.kill()));
  }
}

async function cannon1(url: string, requests: Reqs, o: HttpOptions): Promise<Result> {
  let i = 0;
  const n = requests.length;
  return autocannon({
    url,
    connections: o.connections,
    pipelining: o.pipelining,
    duration: o.durationS,
    requests: [{
      setupRequest: (req) => {
        const r = requests[i++ % n]!;
        req.method = r.method;
        req.path = r.path;
        req.headers = r.headers;
        req.body = r.body;
        return req;
      },
    }],
  });
}

async function measure(server: RunningServer, scenario: string, o: HttpOptions, requests: Parameters<typeof cannon>[1]): Promise<HttpRun> {
  const sampler = new ProcSampler([server.pid]).start();
  const r = await cannon(server.url, requests, o);
  const u = sampler.stop()[server.pid]!;
  const run: HttpRun = {
    server: server.name, scenario, rps: Math.round(r.rps),
    latencyMs: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, mean: round(r.latency.mean) },
    non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts, serverCpuPct: u.cpuPct, serverRssMb: u.rssPeakMb, foreignCores: sampler.machine.foreignCores,
  };
  log(`  ${server.name} ${scenario}: ${run.rps} req/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, non-2xx ${run.non2xx}, errors ${run.errors}, server cpu ${run.serverCpuPct}%, other work ${run.foreignCores} cores`);
  return run;
}

export async function runHttp(o: HttpOptions): Promise<HttpRun[]> {
  const runs: HttpRun[] = [];
  const rider = (secret: string): Record<string, string> => ({ authorization: `Bearer ${signHs256(secret, 'bench-rider', 'rider', 6 * 3600)}` });
  const qs = cityPoints(1000, o.seed + 1000);
  const nearbyReqs = (secret: string): Parameters<typeof cannon>[1] => {
    const h = rider(secret);
    return Array.from({ length: 1000 }, (_, i) => ({ method: 'GET', path: `/v1/drivers/nearby?lat=${qs[2 * i]!.toFixed(6)}&lng=${qs[2 * i + 1]!.toFixed(6)}`, headers: h }));
  };
  const want = new Set(o.scenarios);
  log(`http: ${o.scenarios.join(', ')}; ${o.connections} connections, pipelining ${o.pipelining}, ${o.durationS}s each, ${o.preload} drivers preloaded`);
  if (want.has('nearby') || want.has('eta') || want.has('healthz')) {
    const tw = await startTaxiway({ env: LONG_LIVED, cpuProfDir: o.cpuProfDir });
    try {
      const pre = await tw.child.call<{ ms: number }>({ cmd: 'preload', n: o.preload, seed: o.seed, prefix: 'p', available: 0.8 }, 'preloaded', 300_000);
      log(`  taxiway: ${o.preload} drivers preloaded in ${pre.ms} ms`);
      if (want.has('nearby')) runs.push(await measure(tw, 'nearby', o, nearbyReqs(tw.secret)));
      if (want.has('eta')) {
        const h = rider(tw.secret);
        const reqs = Array.from({ length: 1000 }, (_, i) => ({
          method: 'GET', headers: h,
          path: `/v1/eta?from=${qs[2 * i]!.toFixed(6)},${qs[2 * i + 1]!.toFixed(6)}&to=${qs[(2 * i + 2) % 2000]!.toFixed(6)},${qs[(2 * i + 3) % 2000]!.toFixed(6)}`,
        }));
        runs.push(await measure(tw, 'eta', o, reqs));
      }
      if (want.has('healthz')) runs.push(await measure(tw, 'healthz', o, [{ method: 'GET', path: '/healthz', headers: {} }]));
    } finally {
      await tw.stop();
    }
  }
  if (o.fastify && (want.has('nearby') || want.has('healthz'))) {
    const fy = await startFastify({ BENCH_PRELOAD: String(o.preload), BENCH_SEED: String(o.seed), BENCH_AVAILABLE: '0.8', ...LONG_LIVED });
    try {
      if (want.has('nearby')) runs.push(await measure(fy, 'nearby', o, nearbyReqs(fy.secret)));
      if (want.has('healthz')) runs.push(await measure(fy, 'healthz', o, [{ method: 'GET', path: '/healthz', headers: {} }]));
    } finally {
      await fy.stop();
    }
  }
  if (want.has('jobs')) runs.push(await runJobs(o));
  return runs;
}

/** POST /v1/jobs at full speed with `pool` drivers online that accept, then arrive, start and complete at once. */
async function runJobs(o: HttpOptions): Promise<HttpRun> {
  const tw = await startTaxiway({ env: LONG_LIVED, cpuProfDir: o.cpuProfDir });
  const pool = await LoaderPool.start(o.loaders);
  try {
    const pts = cityPoints(o.pool, o.seed + 7);
    const ids = Array.from({ length: o.pool }, (_, i) => 'pool' + i);
    const opened = await pool.open('driver', ids, pts, { port: tw.port, secret: tw.secret });
    await pool.all({ cmd: 'bot', mode: 'complete' });
    await pool.stream({ mode: 'rate', rate: o.pool, ackEvery: 1000 }); // 1 fix/s each
    await pool.all({ cmd: 'status', s: 'available' });
    await waitAvailable(tw, opened.ok, 30_000);
    log(`  jobs: ${opened.ok} pool drivers online`);
    const h = { ...{ authorization: `Bearer ${signHs256(tw.secret, 'bench-rider', 'rider', 6 * 3600)}` }, 'content-type': 'application/json' };
    const picks = cityPoints(1000, o.seed + 2000);
    const reqs = Array.from({ length: 1000 }, (_, i) => ({
      method: 'POST', path: '/v1/jobs', headers: h,
      body: JSON.stringify({ pickup: { lat: round6(picks[2 * i]!), lng: round6(picks[2 * i + 1]!) }, dropoff: { lat: round6(picks[(2 * i + 2) % 2000]!), lng: round6(picks[(2 * i + 3) % 2000]!) } }),
    }));
    const run = await measure(tw, 'jobs', o, reqs);
    await sleep(500);
    const text = await scrape(`${tw.url}/metrics`);
    const states: Record<string, number> = {};
    for (const s of ['dispatching', 'accepted', 'in_progress', 'completed', 'unfulfilled', 'cancelled']) states[s] = promValue(text, 'taxiway_jobs_total', { state: s });
    run.extra = { poolDrivers: opened.ok, jobStates: states };
    log(`  jobs: states ${JSON.stringify(states)}`);
    await pool.stopStream();
    return run;
  } finally {
    await pool.close();
    await tw.stop();
  }
}

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;
