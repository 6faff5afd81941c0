// Mixed load: GET /v1/drivers/nearby at a fixed request rate (autocannon, overallRate) while driver sockets
// stream fixes at a fixed rate into the same node (the load generator), in one run; nearby latency under ingest.
import autocannon from 'autocannon';
import { signHs256 } from '../lib/jwt.js';
import { LoaderPool } from '../lib/loaders.js';
import { ProcSampler } from '../lib/procs.js';
import { startTaxiway } from '../lib/servers.js';
import { cityPoints, log, sleep } from '../lib/util.js';

export interface MixedOptions {
  /** GET nearby requests per second, all connections together. */
  reqRate: number;
  /** Fixes per second the driver sockets send (one frame per socket read). */
  fixRate: number;
  drivers: number;
  preload: number;
  connections: number;
  durationS: number;
  warmupS: number;
  loaders: number;
  seed: number;
}

export const MIXED_DEFAULTS: MixedOptions = { reqRate: 20_000, fixRate: 200_000, drivers: 10_000, preload: 100_000, connections: 64, durationS: 10, warmupS: 3, loaders: 2, seed: 1 };

export interface MixedResult {
  options: MixedOptions;
  /** GET nearby: req/s achieved and latency (autocannon, ms). */
  nearby: { rps: number; p50: number; p99: number; max: number; non2xx: number; errors: number; timeouts: number; total: number };
  /** Fixes the server accepted per second during the window. */
  fixesPerS: number;
  server: { cpuPct: number; rssPeakMb: number };
  loaders: Array<{ cpuPct: number }>;
  machine: { busyCores: number; foreignCores: number };
}

const LONG_LIVED = { TAXIWAY_STALE_MS: '3600000', TAXIWAY_EXPIRE_MS: '86400000' };

export async function runMixed(o: MixedOptions): Promise<MixedResult> {
  log(`mixed: GET nearby at ${o.reqRate}/s while ${o.drivers} sockets send ${o.fixRate} fixes/s, ${o.preload} drivers preloaded, ${o.durationS}s`);
  const tw = await startTaxiway({ env: LONG_LIVED });
  const pool = await LoaderPool.start(o.loaders);
  try {
    await tw.child.call({ cmd: 'preload', n: o.preload, seed: o.seed, prefix: 'p', available: 0.8 }, 'preloaded', 300_000);
    const ids = Array.from({ length: o.drivers }, (_, i) => 'd' + i);
    const opened = await pool.open('driver', ids, cityPoints(o.drivers, o.seed + 5), { port: tw.port, secret: tw.secret });
    log(`  ${opened.ok} driver sockets open`);
    await pool.stream({ mode: 'rate', rate: o.fixRate, ackEvery: 32 });
    await sleep(o.warmupS * 1000);
    const qs = cityPoints(1000, o.seed + 1000);
    const h = { authorization: `Bearer ${signHs256(tw.secret, 'bench-rider', 'rider', 6 * 3600)}` };
    const paths = Array.from({ length: 1000 }, (_, i) => `/v1/drivers/nearby?lat=${qs[2 * i]!.toFixed(6)}&lng=${qs[2 * i + 1]!.toFixed(6)}`);
    const sampler = new ProcSampler([tw.pid, ...pool.pids]).start();
    const c0 = await tw.child.call<{ accepted: number }>({ cmd: 'counters' }, 'counters', 60_000);
    const t0 = performance.now();
    let i = 0;
    const r = await autocannon({
      url: tw.url, connections: o.connections, duration: o.durationS, overallRate: o.reqRate,
      requests: [{ setupRequest: (req) => ({ ...req, method: 'GET', path: paths[i++ % paths.length]!, headers: h }) }],
    });
    const c1 = await tw.child.call<{ accepted: number }>({ cmd: 'counters' }, 'counters', 60_000);
    const fixesPerS = Math.round((c1.accepted - c0.accepted) / ((performance.now() - t0) / 1000));
    const u = sampler.stop();
    await pool.stopStream();
    const res: MixedResult = {
      options: o,
      nearby: { rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts ?? 0, total: r.requests.total ?? 0 },
      fixesPerS, server: { cpuPct: u[tw.pid]?.cpuPct ?? NaN, rssPeakMb: u[tw.pid]?.rssPeakMb ?? NaN },
      loaders: pool.pids.map((p) => ({ cpuPct: u[p]?.cpuPct ?? NaN })), machine: sampler.machine,
    };
    log(`  nearby ${res.nearby.rps} req/s p50 ${res.nearby.p50} ms p99 ${res.nearby.p99} ms (${res.nearby.total} answered, non-2xx ${res.nearby.non2xx}, errors ${res.nearby.errors}, timeouts ${res.nearby.timeouts}); ${fixesPerS} fixes/s accepted; server cpu ${res.server.cpuPct}%, other work ${res.machine.foreignCores} cores`);
    return res;
  } finally {
    await pool.close();
    await tw.stop();
  }
}
