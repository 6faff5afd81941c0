// Main-thread side of the health listener (TAXIWAY_HEALTH_PORT): writes a heartbeat into shared memory,
// refreshes readiness and a /metrics snapshot on timers, and starts the worker that serves them.
import { Worker } from 'node:worker_threads';
import { HB_BEAT_MS, HB_READY, HB_SLOTS, type HealthWorkerData } from './health-shared.js';
import type { Metrics } from './metrics.js';

export interface HealthServerOptions {
  host: string;
  /** Port of the health listener (0 picks a free one). */
  port: number;
  /** /healthz (and /readyz) answer 503 once the main thread's heartbeat is older than this, ms. */
  stallMs: number;
  /** How often the main thread renders the /metrics snapshot and re-checks readiness, ms (bounded cost: one render per period). */
  refreshMs: number;
  /** How often the main thread writes its heartbeat, ms. */
  beatMs?: number;
  metrics: Metrics;
  /** Backend checks, as for the main port's /readyz. */
  health: () => Promise<Record<string, boolean>>;
}

export interface HealthServer {
  /** The port it listens on. */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Start the health listener on a worker thread. Guarantees: a probe is answered by the worker's own event loop
 * whatever the main loop does; /healthz fails (503) when the main loop has not run a timer for `stallMs`, so a
 * stuck node is still detected; /metrics is at most `refreshMs` (plus the main loop's delay) old and says how old.
 */
export async function startHealthServer(o: HealthServerOptions): Promise<HealthServer> {
  const sab = new SharedArrayBuffer(HB_SLOTS * 8);
  const hb = new Float64Array(sab);
  hb[HB_BEAT_MS] = Date.now();
  hb[HB_READY] = 0;
  const data: HealthWorkerData = { heartbeat: sab, host: o.host, port: o.port, stallMs: o.stallMs };
  const worker = new Worker(new URL('./health-worker.js', import.meta.url), { workerData: data });
  const beat = setInterval(() => {
    hb[HB_BEAT_MS] = Date.now();
  }, o.beatMs ?? Math.max(10, Math.min(100, o.stallMs / 10)));
  beat.unref();
  let refreshing = false;
  const refresh = async (): Promise<void> => {
    if (refreshing) return;
    refreshing = true;
    try {
      const checks = await o.health().catch(() => ({ health: false }));
      hb[HB_READY] = Object.values(checks).every(Boolean) ? 1 : 0;
      const text = await o.metrics.registry.metrics();
      worker.postMessage({ metrics: text, contentType: o.metrics.registry.contentType, at: Date.now() });
    } finally {
      refreshing = false;
    }
  };
  const timer = setInterval(() => void refresh(), o.refreshMs);
  timer.unref();
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m: { listening?: number; error?: string }) => {
      if (m.listening !== undefined) resolve(m.listening);
      else if (m.error) reject(new Error(`health listener on ${o.host}:${o.port}: ${m.error}`));
    });
  }).catch(async (e) => {
    clearInterval(beat);
    clearInterval(timer);
    await worker.terminate();
    throw e;
  });
  await refresh();
  worker.unref();
  return {
    port,
    close: async () => {
      clearInterval(beat);
      clearInterval(timer);
      worker.postMessage({ close: true });
      await Promise.race([new Promise((r) => worker.once('exit', r)), new Promise((r) => setTimeout(r, 2000))]);
      await worker.terminate();
    },
  };
}
