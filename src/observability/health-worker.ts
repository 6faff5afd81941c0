// Health listener on its own thread (TAXIWAY_HEALTH_PORT): answers /healthz, /readyz and /metrics from a
// heartbeat and a metrics snapshot the main thread writes, so probes get a reply while the main loop is saturated.
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { HB_BEAT_MS, HB_READY, type HealthWorkerData } from './health-shared.js';

const data = workerData as HealthWorkerData;
const hb = new Float64Array(data.heartbeat);
let metricsText = '';
let metricsAt = 0;
let contentType = 'text/plain; version=0.0.4; charset=utf-8';

parentPort!.on('message', (m: { metrics: string; contentType: string; at: number } | { close: true }) => {
  if ('close' in m) {
    server.close();
    server.closeAllConnections();
    parentPort!.close();
    return;
  }
  metricsText = m.metrics;
  contentType = m.contentType;
  metricsAt = m.at;
});

/** Milliseconds since the main thread's last heartbeat. */
const heartbeatAgeMs = (): number => Date.now() - hb[HB_BEAT_MS]!;

const server = http.createServer((req, res) => {
  const url = (req.url ?? '/').split('?')[0];
  const head = req.method === 'HEAD';
  const age = Math.max(0, Math.round(heartbeatAgeMs()));
  const stalled = age > data.stallMs;
  const send = (status: number, body: string, type = 'application/json'): void => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(head ? undefined : body);
  };
  if (req.method !== 'GET' && !head) return send(405, JSON.stringify({ code: 'method_not_allowed', message: 'GET or HEAD only' }));
  if (url === '/healthz') return send(stalled ? 503 : 200, JSON.stringify({ ok: !stalled, heartbeat_age_ms: age }));
  if (url === '/readyz') {
    const ready = !stalled && hb[HB_READY] === 1;
    return send(ready ? 200 : 503, JSON.stringify({ ok: ready, heartbeat_age_ms: age }));
  }
  if (url === '/metrics') {
    const snapAge = metricsAt ? (Date.now() - metricsAt) / 1000 : -1;
    const extra = `# HELP taxiway_metrics_snapshot_age_seconds Age of this /metrics snapshot (health port: the main thread refreshes it every TAXIWAY_HEALTH_METRICS_MS)\n# TYPE taxiway_metrics_snapshot_age_seconds gauge\ntaxiway_metrics_snapshot_age_seconds ${snapAge}\n`;
    return send(200, metricsText + extra, contentType);
  }
  return send(404, JSON.stringify({ code: 'not_found', message: `no route ${url} on the health port: /healthz, /readyz, /metrics` }));
});
server.keepAliveTimeout = 5000;
server.listen(data.port, data.host, () => {
  const a = server.address();
  parentPort!.postMessage({ listening: typeof a === 'object' && a ? a.port : data.port });
});
server.on('error', (e) => parentPort!.postMessage({ error: String(e.message) }));
