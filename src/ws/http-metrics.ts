// Per-route HTTP metrics: request count by status and handling time by route, method and status class.
import { performance } from 'node:perf_hooks';
import type { Metrics } from '../observability/metrics.js';

/** Methods named in the duration histogram's `method` label; anything else is `OTHER` (labels stay bounded). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** Records one finished request: `status` sent, `method` as uWS reports it (lower case), `t0` from {@link requestStart}. */
export type RequestRecorder = (status: number, method: string, t0: number) => void;

/** Start time of a request, ms (monotonic, sub-millisecond). */
export const requestStart = (): number => performance.now();

interface Child {
  count: ReturnType<Metrics['httpRequests']['labels']>;
  /** Series number in the duration histogram. */
  series: number;
}

function methodIndex(method: string): number {
  const i = METHODS.indexOf(method.toUpperCase() as (typeof METHODS)[number]);
  return i < 0 ? METHODS.length : i;
}

/**
 * A recorder for the route named `name` ("GET /v1/jobs/:id", or a bare name such as "unmatched"). The
 * counter keeps that name as its `route` label; the histogram splits it into `method` and the route
 * pattern. Labelled children are made once per (status, method) and kept, so a request costs a map
 * lookup, an increment and an observe: no allocation after the first of its kind.
 */
export function routeRecorder(metrics: Metrics, name: string): RequestRecorder {
  const space = name.indexOf(' ');
  const fixedMethod = space > 0 ? methodIndex(name.slice(0, space)) : -1;
  const pattern = space > 0 ? name.slice(space + 1) : name;
  const children = new Map<number, Child>();
  return (status, method, t0) => {
    const m = fixedMethod >= 0 ? fixedMethod : methodIndex(method);
    const key = status * 16 + m;
    let c = children.get(key);
    if (c === undefined) {
      c = {
        count: metrics.httpRequests.labels({ route: name, status: String(status) }),
        series: metrics.httpDuration.series({ route: pattern, method: METHODS[m] ?? 'OTHER', status: `${Math.floor(status / 100)}xx` }),
      };
      children.set(key, c);
    }
    c.count.inc();
    metrics.httpDuration.observeIn(c.series, (performance.now() - t0) / 1000);
  };
}
