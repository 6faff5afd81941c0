// Small uWS HTTP toolkit: copy the request up front, abort-safe async handling, JSON replies, body limits.
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { ErrorCodes, HttpStatusText, MisdirectedError, PickupNotAllowedError, ProtocolError } from '../protocol/errors.js';
import { Limits } from '../protocol/messages.js';
import type { Principal, TokenVerifier } from '../auth/tokens.js';
import { extractToken } from '../auth/tokens.js';
import type { Role } from '../protocol/messages.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { CorsPolicy } from './cors.js';
import { requestStart, routeRecorder } from './http-metrics.js';
import type { RequestRecorder } from './http-metrics.js';

/** Everything a handler may read, copied from `req` before any await (uWS frees `req` after the callback). */
export interface RequestInfo {
  method: string;
  url: string;
  query: URLSearchParams;
  params: string[];
  authorization: string;
  contentType: string;
  /** The Content-Length header as sent ('' when absent, e.g. a chunked body). */
  contentLength: string;
  /** `Origin` header; read only when CORS is configured ('' otherwise). */
  origin: string;
  /** The client's address as text; read only for routes that ask (`RouteSpec.ip`), '' otherwise. */
  ip: string;
}

export interface Reply {
  status: number;
  body?: unknown;
  /** Pre-serialised body (e.g. Prometheus text); sent as-is with `contentType`. */
  raw?: string;
  contentType?: string;
  /** Extra response headers (e.g. Retry-After). */
  headers?: Record<string, string>;
}

/** 429 `rate_limited` with a `Retry-After` header of `retryAfterS` seconds. */
export class RetryLaterError extends ProtocolError {
  constructor(message: string, readonly retryAfterS: number) {
    super('rate_limited', message);
  }
}

export interface RouteContext extends RequestInfo {
  principal: Principal | null;
  body: unknown;
}

export interface RouteSpec {
  /** Label for metrics, e.g. "GET /v1/jobs/:id". */
  name: string;
  /** Roles allowed; null means no auth. */
  roles: readonly Role[] | null;
  /** Parameter count in the pattern (`:id` etc.). */
  params?: number;
  /** Read a JSON body (POST, PUT). */
  body?: boolean;
  /** Largest body read, bytes (default Limits.maxBodyBytes, 64 KiB); past it 413 `too_large`. */
  maxBodyBytes?: number;
  /** Read the client's address into `ip` (rate limits per address). */
  ip?: boolean;
  handler: (ctx: RouteContext) => Reply | Promise<Reply>;
}

export interface HttpKitDeps { verifier: TokenVerifier; logger: Logger; metrics: Metrics; cors: CorsPolicy }

const JSON_TYPE = 'application/json';

/** Build a uWS route callback from a RouteSpec. */
export function route(deps: HttpKitDeps, spec: RouteSpec): (res: HttpResponse, req: HttpRequest) => void {
  const record = routeRecorder(deps.metrics, spec.name);
  const cors = deps.cors;
  const maxBody = spec.maxBodyBytes ?? Limits.maxBodyBytes;
  return (res, req) => {
    const t0 = requestStart();
    const info: RequestInfo = {
      method: req.getMethod(),
      url: req.getUrl(),
      query: new URLSearchParams(req.getQuery() ?? ''),
      params: [],
      authorization: req.getHeader('authorization'),
      contentType: req.getHeader('content-type'),
      contentLength: req.getHeader('content-length'),
      origin: cors.enabled ? req.getHeader('origin') : '',
      // Only readable inside this callback (uWS), like `req`.
      ip: spec.ip ? Buffer.from(res.getRemoteAddressAsText()).toString() : '',
    };
    let paramError: ProtocolError | null = null;
    for (let i = 0; i < (spec.params ?? 0); i++) {
      const raw = req.getParameter(i) ?? '';
      try {
        info.params.push(decodeURIComponent(raw));
      } catch {
        paramError = new ProtocolError('bad_request', `path parameter ${JSON.stringify(raw.slice(0, 40))} is not valid percent-encoding`);
        info.params.push('');
      }
    }
    // Synchronous path (the common case of hot GET routes): no body to read and a token already verified,
    // so the handler runs and the reply goes out inside this callback: no promise, no onAborted, no cork.
    if (!spec.body) {
      let reply: Reply | Promise<Reply> | undefined;
      try {
        if (paramError) throw paramError;
        const principal = spec.roles ? deps.verifier.cached(extractToken(info.authorization, undefined)) : null;
        if (principal !== undefined) reply = spec.handler(context(spec, info, principal, undefined));
      } catch (err) {
        reply = errorReply(err, deps.logger);
      }
      if (reply !== undefined && !(reply instanceof Promise)) {
        write(res, reply, cors, info);
        record(reply.status, info.method, t0);
        return;
      }
      if (reply !== undefined) {
        const state = { aborted: false };
        res.onAborted(() => {
          state.aborted = true;
        });
        reply.then(
          (r) => send(record, t0, info, cors, res, state, r),
          (err) => send(record, t0, info, cors, res, state, errorReply(err, deps.logger)),
        );
        return;
      }
    }
    const state = { aborted: false };
    res.onAborted(() => {
      state.aborted = true;
    });
    const hasBody = !(info.contentLength === '' || info.contentLength === '0') || req.getHeader('transfer-encoding') !== '';
    if (!spec.body) {
      run(deps, spec, info).then(
        (reply) => send(record, t0, info, cors, res, state, reply),
        (err) => send(record, t0, info, cors, res, state, errorReply(err, deps.logger)),
      );
      return;
    }
    // A body route settles everything it can before reading a byte of the body: a request refused anyway
    // (bad path, no or bad token, wrong role, declared too large) is answered at once and, when a body
    // follows, the connection closed, so an unauthenticated client cannot make the server read an endless body.
    let principal: Principal | null = null;
    try {
      if (paramError) throw paramError;
      if (spec.roles) principal = deps.verifier.verifyNow(extractToken(info.authorization, undefined));
      if (principal && !spec.roles!.includes(principal.role)) throw new ProtocolError('forbidden', `role ${principal.role} may not use ${spec.name}`);
      if (info.contentLength !== '' && !(Number(info.contentLength) <= maxBody)) throw tooLarge(maxBody);
    } catch (err) {
      const reply = errorReply(err, deps.logger);
      record(reply.status, info.method, t0);
      if (!hasBody) {
        write(res, reply, cors, info); // nothing unread: the connection stays usable
        return;
      }
      replyThenClose(res, state, reply, cors, info);
      return;
    }
    readJsonBody(res, info.contentType, maxBody, () => {
      // Past the limit: answer now and close, without reading the rest.
      const reply = errorReply(tooLarge(maxBody), deps.logger);
      record(reply.status, info.method, t0);
      return replyThenClose(res, state, reply, cors, info);
    }).then(
      (body) => spec.handler(context(spec, info, principal, body)),
    ).then(
      (reply) => send(record, t0, info, cors, res, state, reply),
      (err) => send(record, t0, info, cors, res, state, errorReply(err, deps.logger)),
    );
  };
}

/**
 * Send `reply` now, with the request body unread, and close the connection: uWS 20.30 shuts the socket
 * down right after the reply (it has no lingering close, and a response ended without closing would
 * make it read the rest of the body). Returns the callback that ignores chunks still delivered.
 */
function replyThenClose(res: HttpResponse, state: { aborted: boolean }, reply: Reply, cors: CorsPolicy, info: RequestInfo): (bytes: number, isLast: boolean) => void {
  if (!state.aborted) {
    state.aborted = true; // nothing more may be written to this response
    const text = reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body));
    res.cork(() => {
      res.writeStatus(HttpStatusText[reply.status] ?? String(reply.status));
      res.writeHeader('content-type', reply.contentType ?? JSON_TYPE);
      cors.writeHeaders(res, info.origin);
      res.end(text, true);
    });
  }
  return () => undefined;
}

function tooLarge(maxBody: number): ProtocolError {
  return new ProtocolError('too_large', `body over ${maxBody} bytes`);
}

function context(spec: RouteSpec, info: RequestInfo, principal: Principal | null, body: unknown): RouteContext {
  if (principal && spec.roles && !spec.roles.includes(principal.role)) throw new ProtocolError('forbidden', `role ${principal.role} may not use ${spec.name}`);
  return { ...info, principal, body };
}

async function run(deps: HttpKitDeps, spec: RouteSpec, info: RequestInfo): Promise<Reply> {
  let principal: Principal | null = null;
  if (spec.roles) principal = await deps.verifier.verify(extractToken(info.authorization, undefined));
  return spec.handler(context(spec, info, principal, undefined));
}

function send(record: RequestRecorder, t0: number, info: RequestInfo, cors: CorsPolicy, res: HttpResponse, state: { aborted: boolean }, reply: Reply): void {
  if (!state.aborted) res.cork(() => write(res, reply, cors, info));
  record(reply.status, info.method, t0);
}

/** Status, headers (CORS ones for the request's origin) and body; a HEAD request gets the same headers and no body. */
function write(res: HttpResponse, reply: Reply, cors: CorsPolicy, info: RequestInfo): void {
  const text = reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body));
  res.writeStatus(HttpStatusText[reply.status] ?? String(reply.status));
  res.writeHeader('content-type', reply.contentType ?? JSON_TYPE);
  if (reply.headers) for (const [k, v] of Object.entries(reply.headers)) res.writeHeader(k, v);
  cors.writeHeaders(res, info.origin);
  if (info.method !== 'head') {
    res.end(text);
    return;
  }
  // Our uWS build's endWithoutBody(length) waits for that many body bytes and never completes the reply:
  // the length goes out as a plain header instead (a body written to a HEAD reply would desync keep-alive).
  res.writeHeader('content-length', String(Buffer.byteLength(text)));
  res.endWithoutBody();
}

/** Turn any thrown value into the protocol's JSON error; unexpected ones are logged and become 500. */
export function errorReply(err: unknown, logger: Logger): Reply {
  if (err instanceof ProtocolError) {
    const reply: Reply = { status: ErrorCodes[err.code], body: { error: { code: err.code, message: err.message } } };
    if (err instanceof RetryLaterError) reply.headers = { 'retry-after': String(err.retryAfterS) };
    if (err instanceof PickupNotAllowedError) (reply.body as { error: Record<string, unknown> }).error.zone = err.zone;
    if (err instanceof MisdirectedError) {
      const e = (reply.body as { error: Record<string, unknown> }).error;
      e.city = err.city;
      if (err.url) e.url = err.url;
    }
    return reply;
  }
  logger.error({ err }, 'unhandled error in HTTP route');
  return { status: 500, body: { error: { code: 'internal', message: 'internal error' } } };
}

/**
 * Read a JSON body of at most `maxBody` bytes; 400 for bad JSON. Past the limit `onTooLarge` runs
 * once, from inside uWS's data callback (it answers and returns where the rest of the body goes), and
 * the returned promise never settles.
 */
function readJsonBody(res: HttpResponse, contentType: string, maxBody: number, onTooLarge: () => (bytes: number, isLast: boolean) => void): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let discard: ((bytes: number, isLast: boolean) => void) | null = null;
    res.onData((ab, isLast) => {
      if (discard) return discard(ab.byteLength, isLast);
      size += ab.byteLength;
      if (size > maxBody) {
        chunks.length = 0;
        discard = onTooLarge();
        return discard(0, isLast);
      }
      chunks.push(Buffer.from(ab.slice(0))); // uWS reuses `ab` after this callback: copy
      if (!isLast) return;
      if (contentType && !/^application\/json\b/i.test(contentType)) return reject(new ProtocolError('bad_request', 'Content-Type must be application/json'));
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.length === 0) return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new ProtocolError('bad_request', 'body is not valid JSON'));
      }
    });
  });
}

/** Parse a required/optional number query parameter, naming it in errors. */
export function queryNumber(q: URLSearchParams, key: string, def: number | undefined, min: number, max: number, integer = false): number {
  const raw = q.get(key);
  if (raw === null || raw === '') {
    if (def === undefined) throw new ProtocolError('bad_request', `${key} is required`);
    return def;
  }
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new ProtocolError('bad_request', `${key} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return v;
}
