// The three WebSocket endpoints (driver, rider, ops): auth on upgrade, frame decoding, message handling.
import type { HttpRequest, HttpResponse, TemplatedApp, us_socket_context_t, WebSocketBehavior } from 'uWebSockets.js';
import type { Principal, TokenVerifier } from '../auth/tokens.js';
import { extractToken } from '../auth/tokens.js';
import { decodeFrame, encodeFrame } from '../protocol/codec.js';
import { CloseCodes, ErrorCodes, HttpStatusText, ProtocolError } from '../protocol/errors.js';
import type { ErrorCode } from '../protocol/errors.js';
import { Limits } from '../protocol/messages.js';
import type { Role } from '../protocol/messages.js';
import { frameId } from '../protocol/validate.js';
import { IdFrame } from '../protocol/id-frame.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { newSocketData } from './delivery.js';
import type { Sock, SocketData } from './delivery.js';
import type { Hub } from './hub.js';
import type { IpLimiter, WsLimits } from './conn-limits.js';

export interface SocketDeps {
  verifier: TokenVerifier;
  hub: Hub;
  logger: Logger;
  metrics: Metrics;
  maxBackpressureBytes: number;
  /** Pending actions per socket, per-IP upgrade rate and open sockets. */
  limits: WsLimits;
  /** Per-IP counts, shared by every role's endpoint. */
  ipLimiter: IpLimiter;
  /** True while the server accepts new sockets (false during shutdown). */
  accepting: () => boolean;
}

/** Role-specific behaviour: what to do on open, per decoded frame, and on close. */
export interface RoleHandler {
  open(ws: Sock): void;
  /**
   * Optional allocation-free path for the hottest frames: return true when `bytes` was fully handled
   * (reply included), false to fall through to the general decode (which then reports any error). `ud` is
   * `ws.getUserData()`, passed in because each call of it crosses into native code.
   */
  fast?(ws: Sock, ud: SocketData, bytes: Uint8Array): boolean;
  /**
   * Handle one decoded frame; throw ProtocolError to answer `err`. A returned promise is an async action
   * (job changes): it runs after the socket's earlier async actions (per-socket order), and its
   * rejection is answered with `err` carrying the frame's id.
   */
  message(ws: Sock, m: Record<string, unknown>): void | (() => Promise<void>);
  close(ws: Sock): void;
}

const ACK = new IdFrame({ t: 'ack' });
/** Pre-encoded: refusing a flood must cost less than serving it (no error object, no encode). */
const TOO_MANY_PENDING = new IdFrame({ t: 'err', code: 'rate_limited', msg: 'too many requests waiting for their answer on this socket: wait for the replies' });

/** Build an `err` frame. */
export function errFrame(id: number | undefined, code: ErrorCode, msg: string): Buffer {
  return encodeFrame({ t: 'err', id, code, msg });
}

/** Answer a handled frame: `ack` when it carried an id. */
export function replyOk(deps: SocketDeps, ws: Sock, id: number | undefined): void {
  if (id !== undefined) deps.hub.delivery.reliableScratch(ws, ACK.with(id));
}

/** Register `/v1/<role>/ws` on the app. */
export function registerSocket(app: TemplatedApp, role: Role, deps: SocketDeps, handler: RoleHandler): void {
  const counts: ActionCounters = {
    run: deps.metrics.wsActions.labels({ role, result: 'run' }),
    dropped: deps.metrics.wsActions.labels({ role, result: 'dropped' }),
    refused: deps.metrics.wsActions.labels({ role, result: 'refused' }),
    refusedErr: deps.metrics.wsBadFrames.labels({ role, code: 'rate_limited' }),
  };
  for (const c of [counts.run, counts.dropped, counts.refused]) c.inc(0);
  const behavior: WebSocketBehavior<SocketData> = {
    // Frames over 64 KiB are refused by us with a 1009 close. uWS's own cap sits well above so we see
    // them; past it (1 MiB) uWS drops the connection without a close frame, as it must not buffer more.
    maxPayloadLength: Limits.hardFrameBytes,
    maxBackpressure: deps.maxBackpressureBytes,
    closeOnBackpressureLimit: 0, // we queue and shed ourselves (delivery.ts)
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade: (res, req, context) => upgrade(deps, role, res, req, context),
    open: (ws) => {
      deps.ipLimiter.opened(ws.getUserData().ip);
      deps.metrics.wsConnections.inc({ role });
      deps.hub.sockets.add(ws);
      try {
        handler.open(ws);
      } catch (err) {
        deps.logger.error({ err, role }, 'socket open handler failed');
        ws.end(CloseCodes.internalError, 'internal error');
      }
    },
    message: (ws, data, isBinary) => onMessage(deps, role, handler, counts, ws, data, isBinary),
    drain: (ws) => deps.hub.delivery.drain(ws),
    close: (ws) => {
      deps.ipLimiter.closed(ws.getUserData().ip);
      deps.metrics.wsConnections.dec({ role });
      deps.hub.closed(ws);
      try {
        handler.close(ws);
      } catch (err) {
        deps.logger.error({ err, role }, 'socket close handler failed');
      }
    },
  };
  app.ws(`/v1/${role}/ws`, behavior);
}

/**
 * Authenticate and upgrade inside uWS's upgrade handler, never later. An upgrade completed after an
 * await (`res.cork(() => res.upgrade(...))` from a promise, as in uWS's UpgradeAsync example) hits a
 * bug in HttpResponse::cork of our uWS build (20.30; fixed upstream by uNetworking/uWebSockets PR 1929):
 * the socket is reallocated in place on upgrade, so cork() does not notice the upgrade, reads the freed
 * HttpResponseData's state from what is now WebSocket memory and, when those stale bytes look like
 * "Connection: close, response done", shuts the new WebSocket down right after `open` (the client sees
 * 1006, and frames sent right after `hello` are lost). The synchronous path is safe (uWS's HTTP parser
 * finishes the upgrade itself), and an HS256 check is one HMAC, so the token is verified inline.
 */
function upgrade(deps: SocketDeps, role: Role, res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
  if (!deps.accepting()) return refuse(res, 503, 'unavailable', 'server is shutting down');
  // Before the token check: a flood of upgrades must not cost an HMAC each.
  const ip = Buffer.from(res.getRemoteAddressAsText()).toString();
  const refusal = deps.ipLimiter.admit(ip, Date.now());
  if (refusal !== null) {
    deps.metrics.wsRefused.inc({ reason: refusal });
    const msg = refusal === 'upgrade_rate'
      ? `more than ${deps.limits.upgradesPerSecPerIp} WebSocket upgrades per second from this address`
      : `more than ${deps.limits.maxSocketsPerIp} open WebSockets from this address`;
    return refuse(res, 429, 'rate_limited', msg, deps.ipLimiter.retryAfterS(refusal));
  }
  let p: Principal;
  try {
    p = deps.verifier.verifyNow(extractToken(req.getHeader('authorization'), req.getQuery('token')));
  } catch (err) {
    const e = err instanceof ProtocolError ? err : new ProtocolError('unauthorized', 'invalid token');
    return refuse(res, ErrorCodes[e.code], e.code, e.message);
  }
  if (p.role !== role) return refuse(res, 403, 'forbidden', `role ${p.role} may not open /v1/${role}/ws`);
  res.upgrade(
    newSocketData(role, p.sub, ip, p.products),
    req.getHeader('sec-websocket-key'),
    req.getHeader('sec-websocket-protocol'),
    req.getHeader('sec-websocket-extensions'),
    context,
  );
}

function refuse(res: HttpResponse, status: number, code: string, message: string, retryAfterS?: number): void {
  res.cork(() => {
    res.writeStatus(HttpStatusText[status] ?? String(status));
    res.writeHeader('content-type', 'application/json');
    if (retryAfterS !== undefined) res.writeHeader('retry-after', String(retryAfterS));
    res.end(JSON.stringify({ error: { code, message } }));
  });
}

interface ActionCounters {
  run: { inc(n?: number): void };
  dropped: { inc(n?: number): void };
  refused: { inc(n?: number): void };
  refusedErr: { inc(n?: number): void };
}

function onMessage(deps: SocketDeps, role: Role, handler: RoleHandler, counts: ActionCounters, ws: Sock, data: ArrayBuffer, isBinary: boolean): void {
  const ud = ws.getUserData();
  if (data.byteLength > Limits.maxFrameBytes) {
    ud.closed = true;
    ws.end(CloseCodes.tooBig, 'frame over 64 KiB');
    return;
  }
  let id: number | undefined;
  try {
    if (!isBinary) throw new ProtocolError('bad_frame', 'text frames are not accepted: send binary msgpack');
    if (handler.fast && handler.fast(ws, ud, new Uint8Array(data))) {
      ud.badInRow = 0;
      return;
    }
    const m = decodeFrame(data);
    id = frameId(m);
    const action = handler.message(ws, m);
    ud.badInRow = 0;
    if (action) {
      if (ud.actions >= deps.limits.maxPendingActions) {
        // Bounded queue: past it the frame is answered at once and nothing is queued.
        counts.refused.inc();
        counts.refusedErr.inc();
        deps.hub.delivery.reliableScratch(ws, TOO_MANY_PENDING.with(id));
        return;
      }
      const replyId = id;
      ud.actions++;
      // A closed socket's queued actions are dropped, not run: nobody is left to read their answers.
      const step = (): void | Promise<void> => {
        if (ud.closed) return counts.dropped.inc();
        counts.run.inc();
        return action();
      };
      ud.chain = ud.chain.then(step).catch((err: unknown) => {
        if (!(err instanceof ProtocolError)) {
          deps.logger.error({ err, role, sub: ud.sub }, 'socket action failed');
          err = new ProtocolError('internal', 'internal error');
        }
        const e = err as ProtocolError;
        deps.metrics.wsBadFrames.inc({ role, code: e.code });
        if (!ud.closed) deps.hub.delivery.reliable(ws, errFrame(replyId, e.code, e.message));
      }).then(() => {
        ud.actions--;
      });
    }
  } catch (err) {
    if (!(err instanceof ProtocolError)) {
      deps.logger.error({ err, role, sub: ud.sub }, 'socket message handler failed');
      err = new ProtocolError('internal', 'internal error');
    }
    const e = err as ProtocolError;
    deps.metrics.wsBadFrames.inc({ role, code: e.code });
    if (ud.closed) return;
    deps.hub.delivery.reliable(ws, errFrame(id, e.code, e.message));
    if (e.code === 'bad_frame' || e.code === 'bad_request') {
      if (++ud.badInRow >= Limits.maxBadFramesInRow) {
        ud.closed = true;
        ws.end(CloseCodes.policyViolation, `${Limits.maxBadFramesInRow} bad frames in a row`);
      }
    } else ud.badInRow = 0;
  }
}
