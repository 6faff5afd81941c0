// One autocannon process of several (http scenarios, --cannons N): runs the requests it is sent, reports the summary.
import autocannon from 'autocannon';

interface Req { method: string; path?: string; body?: string; headers: Record<string, string> }
interface Cmd { cmd: 'run'; url: string; requests: Req[]; connections: number; pipelining: number; durationS: number; offset: number }

process.on('message', (m: Cmd) => {
  if (m?.cmd !== 'run') return;
  // Each process starts at its own offset in the request list, so together they spread over all of it.
  let i = m.offset;
  const n = m.requests.length;
  autocannon({
    url: m.url,
    connections: m.connections,
    pipelining: m.pipelining,
    duration: m.durationS,
    requests: [{
      setupRequest: (req) => {
        const r = m.requests[i++ % n]!;
        req.method = r.method as typeof req.method;
        req.path = r.path;
        req.headers = r.headers;
        req.body = r.body;
        return req;
      },
    }],
  }).then(
    (r) => process.send?.({
      ev: 'result', rps: r.requests.average, total: r.requests.total,
      latency: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, mean: r.latency.mean },
      non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts,
    }),
    (e: Error) => process.send?.({ ev: 'error', message: e.message }),
  );
});
process.send?.({ ev: 'ready' });
