// CORS for the HTTP API: which browser origins may call it, the headers on replies, and preflight answers.
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { requestStart } from './http-metrics.js';
import type { RequestRecorder } from './http-metrics.js';

/** Methods the HTTP API serves; a preflight for anything else gets no allow headers. */
const METHODS = 'GET, HEAD, POST';
/** Request headers a browser app needs: the bearer token and the JSON body's type. */
const HEADERS = 'authorization, content-type';
/** How long a browser may cache a preflight answer, seconds (browsers cap it: Chromium at 7,200). */
const MAX_AGE_S = '3600';

/**
 * The configured CORS policy. Origins are compared exactly (scheme, host and port), as browsers send
 * them in `Origin`. With no origins configured every method is a no-op, so the default costs nothing.
 */
export class CorsPolicy {
  /** True when any origin (or at least one) is configured: the request's `Origin` must then be read. */
  readonly enabled: boolean;
  private readonly any: boolean;
  private readonly origins: ReadonlySet<string>;

  constructor(origins: readonly string[]) {
    this.any = origins.includes('*');
    this.origins = new Set(origins);
    this.enabled = origins.length > 0;
  }

  /** The `Access-Control-Allow-Origin` value for a request from `origin` (`''` when none), or null when not allowed. */
  allowed(origin: string): string | null {
    if (origin === '') return null;
    if (this.any) return '*';
    return this.origins.has(origin) ? origin : null;
  }

  /**
   * Headers of an actual (non-preflight) reply, written before `end`. `Vary: Origin` goes on every reply
   * when the answer depends on the origin (a list of origins), so a shared cache never hands one
   * origin's reply to another; with `*` the reply is the same for everyone and needs no `Vary`.
   */
  writeHeaders(res: HttpResponse, origin: string): void {
    if (!this.enabled) return;
    const allow = this.allowed(origin);
    if (allow !== null) {
      res.writeHeader('access-control-allow-origin', allow);
      // A browser app may read Retry-After of a 429 only when it is exposed (not a CORS-safelisted header).
      res.writeHeader('access-control-expose-headers', 'Retry-After');
    }
    if (!this.any) res.writeHeader('vary', 'Origin');
  }

  /**
   * Answer `OPTIONS` on every path. An allowed origin's preflight (it carries
   * `Access-Control-Request-Method`) gets 204 with the allow headers; any other `OPTIONS` gets 204 with
   * `Allow` only: per the Fetch standard a server that does not share simply omits the CORS headers,
   * and the browser then fails the preflight and never sends the request. A 204 (rather than a 403)
   * keeps the answer identical for every refused origin and says nothing about the configuration.
   */
  registerPreflight(app: TemplatedApp, record: RequestRecorder): void {
    app.options('/*', (res, req) => {
      const t0 = requestStart();
      const origin = this.enabled ? req.getHeader('origin') : '';
      const requested = req.getHeader('access-control-request-method');
      const allow = requested === '' ? null : this.allowed(origin);
      res.cork(() => {
        res.writeStatus('204 No Content');
        res.writeHeader('allow', `${METHODS}, OPTIONS`);
        if (allow !== null) {
          res.writeHeader('access-control-allow-origin', allow);
          res.writeHeader('access-control-allow-methods', METHODS);
          res.writeHeader('access-control-allow-headers', HEADERS);
          res.writeHeader('access-control-max-age', MAX_AGE_S);
        }
        if (this.enabled && !this.any) res.writeHeader('vary', 'Origin');
        res.endWithoutBody(); // 204: no body and, per RFC 9110, no Content-Length
      });
      record(204, 'options', t0);
    });
  }
}
