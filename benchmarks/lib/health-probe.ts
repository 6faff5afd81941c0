// Health probe: GET /healthz, /readyz and /metrics in turn, each on a new connection (as an orchestrator's
// probe or a Prometheus scrape does), while a scenario loads the server; reports each route's latency.
import http from 'node:http';
import { nowMs, sleep, summarize } from './util.js';
import type { Summary } from './util.js';

export const HEALTH_ROUTES = ['/healthz', '/readyz', '/metrics'] as const;

export interface HealthProbeResult {
  /** Port probed: the main port, or the health port (TAXIWAY_HEALTH_PORT) when the server has one. */
  port: number;
  /** Latency per route, ms (a request that timed out counts as its timeout); `failed`: not 200 (timeout, or 503). */
  routes: Record<string, Summary & { failed: number }>;
  /** p99 over every request of the three routes, ms. */
  allP99: number;
  /** Health port only: the oldest main-thread heartbeat /healthz reported, ms (how long one turn of the main loop took). */
  maxHeartbeatAgeMs?: number;
}

/** One GET on a fresh connection; resolves with ms until the whole body arrived (or `timeoutMs` on failure). */
function timedGet(port: number, path: string, timeoutMs: number): Promise<{ ms: number; ok: boolean; body: string }> {
  const t0 = nowMs();
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { if (body.length < 200) body += d.toString(); });
      res.on('end', () => resolve({ ms: nowMs() - t0, ok: res.statusCode === 200, body }));
      res.on('error', () => resolve({ ms: timeoutMs, ok: false, body: '' }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ ms: Math.max(timeoutMs, nowMs() - t0), ok: false, body: '' }));
  });
}

/** Probe the three routes every `everyMs` until `stop()`; `timeoutMs` bounds one request. */
export function startHealthProbe(port: number, everyMs = 100, timeoutMs = 10_000): { stop(): Promise<HealthProbeResult> } {
  const lat: Record<string, number[]> = Object.fromEntries(HEALTH_ROUTES.map((r) => [r, []]));
  const failed: Record<string, number> = Object.fromEntries(HEALTH_ROUTES.map((r) => [r, 0]));
  let running = true;
  let maxAge: number | undefined;
  const loop = (async () => {
    while (running) {
      for (const r of HEALTH_ROUTES) {
        const x = await timedGet(port, r, timeoutMs);
        lat[r]!.push(x.ms);
        if (!x.ok) failed[r]!++;
        const age = r === '/healthz' ? /"heartbeat_age_ms":(\d+)/.exec(x.body) : null;
        if (age) maxAge = Math.max(maxAge ?? 0, Number(age[1]));
      }
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      const routes = Object.fromEntries(HEALTH_ROUTES.map((r) => [r, { ...summarize(lat[r]!), failed: failed[r]! }]));
      return { port, routes, allP99: summarize(HEALTH_ROUTES.flatMap((r) => lat[r]!)).p99, ...(maxAge !== undefined ? { maxHeartbeatAgeMs: maxAge } : {}) };
    },
  };
}
