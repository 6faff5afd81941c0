// The SDK's reconnecting socket: token, backoff, close codes, request/reply by id, typed events.
import { decodeFrame, encodeFrame } from '../protocol/codec.js';
import { ClientCloseCodes, CloseCodes, parseServedElsewhere } from '../protocol/errors.js';
import type { AckFrame, ErrFrame } from '../protocol/messages.js';
import { backoffDelay, backoffSettings } from './backoff.js';
import type { Backoff, BackoffOptions } from './backoff.js';
import { ClientError } from './client-error.js';
import { Listeners } from './listeners.js';
import type { Listener } from './listeners.js';
import { TokenSource } from './token-source.js';
import type { TokenProvider } from './token-source.js';
import { openTransport } from './transport.js';
import { MAX_REDIRECTS, roleEndpoint, socketEndpoint } from './http-api.js';
import type { Transport, WebSocketChoice } from './transport.js';

/** Options every client takes. */
export interface ClientOptions {
  /** The node: `ws://host:port` or `wss://…` (the role's path, e.g. `/v1/driver/ws`, is appended), or the full endpoint. */
  url: string;
  /**
   * More nodes of the same deployment (same forms as `url`), for apps that reach nodes without a load
   * balancer. When a connection to the current node fails without a redirect (refused, no open within
   * `connectTimeoutMs`, or the socket closed), the next backoff attempt dials the next node of `[url,
   * ...urls]`, round-robin; a 4009 redirect still goes where it points. Absent or empty: only `url` is dialled.
   */
  urls?: string[];
  /**
   * A socket not open this long after the attempt started is given up (and, with `urls`, the next node is
   * tried), ms. Default 10,000 when `urls` names another node; otherwise none (the OS's own TCP timeout).
   */
  connectTimeoutMs?: number;
  /** A JWT for the role, or a provider asked for one when needed (see TokenProvider). */
  token: string | TokenProvider;
  /** Reconnect delays (default: full jitter, 500 ms doubling up to 30 s). */
  backoff?: BackoffOptions;
  /** How long a request waits for its `ack`/`err`, ms (default 10,000). */
  requestTimeoutMs?: number;
  /** Ask the provider for a new token this long before the cached one's `exp`, ms (default 30,000). */
  expirySkewMs?: number;
  /** A connection that stayed open this long resets the backoff to its first step, ms (default 5,000). */
  stableAfterMs?: number;
  /** WebSocket implementation (default `'auto'`: the `ws` package in Node, the global WebSocket elsewhere). */
  WebSocket?: WebSocketChoice;
  /** Random numbers in [0, 1) for the jitter (default Math.random; tests pass a seeded one). */
  random?: () => number;
}

/** Events every client emits. */
export interface ConnectionEvents {
  [name: string]: unknown;
  /** The socket opened (the driver's `hello` comes next). */
  open: { attempt: number };
  /** The client is usable: the driver got `hello`; riders and ops re-sent their subscriptions. */
  ready: undefined;
  /** The socket closed; `reconnectInMs` is the delay before the next attempt, absent when the client stops. */
  close: { code: number; reason: string; reconnectInMs?: number };
  /** The client stopped for good: close() was called, or a close code / refusal says not to reconnect. */
  stopped: { code: number; reason: string; error?: ClientError };
  /** Every frame the server sends, known types and future ones alike. */
  frame: { t: string; [k: string]: unknown };
  /** An `err` frame that answers no pending request (e.g. a `loc` sent without `id`). */
  err: ErrFrame;
  /** Something went wrong that the client handled itself (a frame it cannot decode, a throwing listener, …). */
  error: Error;
  /** Closed with 4009: the socket's city is served by the node at `url`, which the client dials next (undefined: none known, retried here after a backoff). */
  redirect: { city: string; url: string | undefined; hops: number };
}

interface Pending { resolve(a: AckFrame): void; reject(e: ClientError): void; timer: ReturnType<typeof setTimeout> }

/**
 * Base of DriverClient, RiderClient and OpsClient. Close codes (docs/protocol.md): 4001 (replaced by a newer
 * socket of the same driver) and 1008 (too many bad frames) stop the client; 1001 (node shutting down),
 * 4008 (too slow), 1009, 1011, 1006 and any other code reconnect after a backoff delay; 4009 (the socket's city is
 * served by another node) dials the node its reason names at once (at most 3 redirects in a row, then with backoff).
 * Any other close or failed open, given `urls`, moves the next attempt to the next node of the list. A refused upgrade:
 * 401 asks the token provider again (a fixed token stops the client), 403 stops it, 429 waits at least its
 * `Retry-After`. Browsers hide an upgrade's status: there, two failed opens in a row ask the provider again.
 */
export abstract class Connection<E extends ConnectionEvents> {
  /** Reconnect attempts since the last stable connection. */
  protected attempt = 0;
  private transport: Transport | undefined;
  private readonly tokens: TokenSource;
  private readonly backoff: Backoff;
  private readonly events: Listeners<E>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private started = false;
  private stopping = false;
  private stoppedInfo: { code: number; reason: string; error?: ClientError } | undefined;
  private isReady = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private unopenedInRow = 0;
  protected readonly requestTimeoutMs: number;
  private endpoint: string;
  /** Redirects (close 4009) followed since the last stable connection. */
  private hops = 0;
  /** Socket endpoints of `[url, ...urls]`, no duplicates; `nodeIndex` is the one dialled last (a redirect target outside the list keeps it). */
  private readonly nodes: string[];
  private nodeIndex = 0;
  private readonly connectTimeoutMs: number | undefined;

  /** @param path the role's endpoint path, e.g. `/v1/driver/ws` */
  protected constructor(private readonly o: ClientOptions, private readonly path: string) {
    this.nodes = [...new Set([o.url, ...(o.urls ?? [])].map((u) => roleEndpoint(u, path)))];
    this.endpoint = this.nodes[0]!;
    this.connectTimeoutMs = o.connectTimeoutMs ?? (this.nodes.length > 1 ? 10_000 : undefined);
    this.tokens = new TokenSource(o.token, o.expirySkewMs ?? 30_000);
    this.backoff = backoffSettings(o.backoff);
    this.requestTimeoutMs = o.requestTimeoutMs ?? 10_000;
    this.events = new Listeners<E>((err, event) => {
      if (event === 'error') console.error('taxiway client: an error listener threw', err);
      else this.emit('error', err instanceof Error ? err : new Error(String(err)));
    });
  }

  /** Add a listener for `event` (several may listen). Returns a function that removes it. */
  on<K extends keyof E>(event: K, fn: Listener<E, K>): () => void {
    return this.events.on(event, fn);
  }

  /** Add a listener for the next `event` only. Returns a function that removes it. */
  once<K extends keyof E>(event: K, fn: Listener<E, K>): () => void {
    return this.events.once(event, fn);
  }

  /** Remove a listener added with on() or once(). */
  off<K extends keyof E>(event: K, fn: Listener<E, K>): void {
    this.events.off(event, fn);
  }

  /** True while the socket is open and the client is ready (see the `ready` event). */
  get connected(): boolean {
    return this.isReady && this.transport?.isOpen === true;
  }

  /** The socket endpoint dialled now (the configured one, the node of `urls` failed over to, or where the last redirect pointed). */
  get currentUrl(): string {
    return this.endpoint;
  }

  /** True once the client stopped for good (close(), close 4001 or 1008, or a refusal it cannot fix). */
  get stopped(): boolean {
    return this.stoppedInfo !== undefined;
  }

  /**
   * Start connecting (idempotent). Resolves at the first `ready`; rejects with a ClientError when the
   * client stops first. Reconnects continue in the background until close().
   */
  connect(): Promise<void> {
    if (this.stoppedInfo) return Promise.reject(this.stoppedInfo.error ?? new ClientError('stopped', 'client stopped'));
    if (!this.started) {
      this.started = true;
      void this.dial();
    }
    if (this.isReady) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const offReady = this.onBase('ready', () => { offReady(); offStop(); resolve(); });
      const offStop = this.onBase('stopped', (s) => { offReady(); offStop(); reject(s.error ?? new ClientError('stopped', s.reason)); });
    });
  }

  /** Stop for good: close the socket (1000), cancel reconnects, reject pending requests. Resolves once closed. */
  close(): Promise<void> {
    if (this.stoppedInfo) return Promise.resolve();
    this.stopping = true;
    clearTimeout(this.retryTimer);
    const t = this.transport;
    if (!t) {
      this.finish(ClientCloseCodes.normal, 'closed by the client');
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.onBase('stopped', () => resolve());
      t.close(ClientCloseCodes.normal, 'client closing');
    });
  }

  /**
   * Send `frame` with a fresh `id` and resolve with its `ack`; reject with a ClientError carrying the
   * `err` code, or `timeout` after `timeoutMs` (default requestTimeoutMs), `not_connected`, `disconnected`.
   */
  protected request(frame: { t: string; [k: string]: unknown }, timeoutMs = this.requestTimeoutMs, whenOpen = false): Promise<AckFrame> {
    const t = this.transport;
    if (!t?.isOpen || (!this.isReady && !whenOpen)) return Promise.reject(new ClientError('not_connected', `${frame.t}: not connected`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ClientError('timeout', `${frame.t}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      t.send(encodeFrame({ ...frame, id }));
    });
  }

  /** Send `frame` with a fresh `id` whose reply the subclass handles itself (no timer); undefined when not connected. */
  protected sendWithId(frame: { t: string; [k: string]: unknown }): number | undefined {
    const t = this.transport;
    if (!t?.isOpen || !this.isReady) return undefined;
    const id = this.nextId++;
    t.send(encodeFrame({ ...frame, id }));
    return id;
  }

  /** Starts connecting when not yet started; resolves at the next `ready` (at once when ready now). */
  protected whenReady(): Promise<void> {
    return this.connected ? Promise.resolve() : this.connect();
  }

  /** A token for HTTP calls (the same source as the socket's); `refused`: the last one got a 401. */
  protected async httpToken(refused = false): Promise<string> {
    if (refused) this.tokens.refused();
    return this.tokens.get();
  }

  /** True when a refused token can be replaced (a provider was given). */
  protected get tokenRenewable(): boolean {
    return this.tokens.renewable;
  }

  /** Send a frame without `id` (no reply unless refused); false when not connected. */
  protected send(frame: { t: string; [k: string]: unknown }): boolean {
    const t = this.transport;
    if (!t?.isOpen) return false;
    t.send(encodeFrame(frame));
    return true;
  }

  protected emit<K extends keyof E>(event: K, payload: E[K]): void {
    this.events.emit(event, payload);
  }

  /** The socket opened: subclasses resubscribe here (riders, ops) or wait for `hello` (drivers). */
  protected abstract opened(): void;
  /** A frame other than a reply to a pending request; true when it was a reply the subclass was waiting for. */
  protected abstract handle(f: { t: string; [k: string]: unknown }): boolean | void;
  /** The socket closed (requests already failed); subclasses reset per-socket state. */
  protected abstract closed(): void;

  /** Subclasses call this when the client is usable on the new socket. */
  protected markReady(): void {
    this.isReady = true;
    this.emit('ready', undefined as E['ready']);
  }

  private onBase<K extends keyof ConnectionEvents>(event: K, fn: (p: ConnectionEvents[K]) => void): () => void {
    return (this.events as unknown as Listeners<ConnectionEvents>).on(event, fn);
  }

  private async dial(): Promise<void> {
    if (this.stopping) return;
    let opened = false;
    let openedAt = 0;
    let openTimer: ReturnType<typeof setTimeout> | undefined;
    try {
      const token = await this.tokens.get();
      if (this.stopping) return this.finish(ClientCloseCodes.normal, 'closed by the client');
      this.transport = await openTransport(this.endpoint, token, this.o.WebSocket ?? 'auto', {
        open: () => {
          clearTimeout(openTimer);
          opened = true;
          openedAt = Date.now();
          this.unopenedInRow = 0;
          if (this.stopping) return this.transport?.close(ClientCloseCodes.normal, 'client closing');
          this.emit('open', { attempt: this.attempt } as E['open']);
          this.opened();
        },
        message: (bytes) => this.onBytes(bytes),
        close: (code, reason, refused) => {
          clearTimeout(openTimer);
          this.onClose(code, reason, refused, opened ? Date.now() - openedAt : -1);
        },
      });
      if (this.stopping) this.transport.close(ClientCloseCodes.normal, 'client closing');
      else if (this.connectTimeoutMs !== undefined && !opened) {
        // A node that accepts TCP but never answers (or a black-holed address) would hold the attempt for minutes.
        const t = this.transport;
        openTimer = setTimeout(() => { if (!opened) t.close(ClientCloseCodes.normal, 'connect timeout'); }, this.connectTimeoutMs);
      }
    } catch (err) {
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
      if (this.nodes.length > 1) this.nextNode();
      this.retry(ClientCloseCodes.noStatus, (err as Error).message ?? 'connect failed', 0);
    }
  }

  private onBytes(bytes: Uint8Array): void {
    let f: { t: string; [k: string]: unknown };
    try {
      f = decodeFrame(bytes) as { t: string };
    } catch (err) {
      return this.emit('error', err as Error);
    }
    this.emit('frame', f as E['frame']);
    if ((f.t === 'ack' || f.t === 'err') && typeof f.id === 'number') {
      const p = this.pending.get(f.id);
      if (p) {
        this.pending.delete(f.id);
        clearTimeout(p.timer);
        if (f.t === 'ack') p.resolve(f as AckFrame);
        else p.reject(new ClientError((f as unknown as ErrFrame).code as ClientError['code'], String(f.msg)));
        return;
      }
    }
    if (this.handle(f) !== true && f.t === 'err') this.emit('err', f as unknown as E['err']);
  }

  /** `openMs`: how long the socket was open, -1 when it never opened. */
  private onClose(code: number, reason: string, refused: { status: number; retryAfterS?: number } | undefined, openMs: number): void {
    const reportsRefusals = this.transport?.reportsRefusals ?? true;
    this.transport = undefined;
    this.isReady = false;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ClientError('disconnected', `socket closed (${code}) before the reply`));
      this.pending.delete(id);
    }
    this.closed();
    if (this.stopping) return this.finish(code, reason || 'closed by the client');
    if (openMs >= (this.o.stableAfterMs ?? 5000)) {
      this.attempt = 0;
      this.hops = 0;
    }
    let minDelayMs = 0;
    if (refused) {
      if (refused.status === 401) {
        if (!this.tokens.renewable) return this.halt(code, 'the server refused the token (401) and there is no token provider', 'unauthorized', 401);
        this.tokens.refused();
      } else if (refused.status === 403) {
        return this.halt(code, "the token's role may not use this socket (403)", 'forbidden', 403);
      } else if (refused.status === 429) {
        minDelayMs = (refused.retryAfterS ?? 1) * 1000;
      }
    } else if (openMs < 0 && !reportsRefusals && ++this.unopenedInRow >= 2 && this.tokens.renewable) {
      // Browsers hide the upgrade's status: a socket that keeps failing to open may be a refused token.
      this.tokens.refused();
    }
    if (code === CloseCodes.replaced) return this.halt(code, reason || 'replaced by a newer socket of the same driver', 'replaced');
    if (code === CloseCodes.policyViolation) return this.halt(code, reason || 'too many bad frames in a row', 'policy');
    if (code === CloseCodes.servedElsewhere) {
      // Its city is served by another node: dial it at once, at most MAX_REDIRECTS times in a row (then with backoff).
      const { city, url } = parseServedElsewhere(reason);
      const target = url === undefined ? undefined : safeEndpoint(url, this.path);
      this.emit('redirect', { city, url: target, hops: this.hops + 1 } as E['redirect']);
      if (target !== undefined) {
        this.endpoint = target;
        const i = this.nodes.indexOf(target);
        if (i >= 0) this.nodeIndex = i;
        if (++this.hops <= MAX_REDIRECTS) return this.retry(code, reason, 0, true);
      }
      // No usable URL, or too many hops: retried where it is, after a backoff delay.
    } else if (this.nodes.length > 1 && refused?.status !== 401 && refused?.status !== 429) {
      // This node failed us; refusals about the client (its token, its rate) would follow it to any node.
      this.nextNode();
    }
    this.retry(code, reason, minDelayMs);
  }

  /** The node after the current one in `[url, ...urls]`, round-robin, dialled by the next attempt. */
  private nextNode(): void {
    this.nodeIndex = (this.nodeIndex + 1) % this.nodes.length;
    this.endpoint = this.nodes[this.nodeIndex]!;
  }

  private retry(code: number, reason: string, minDelayMs: number, now = false): void {
    if (this.stopping) return this.finish(code, reason);
    if (!now) this.attempt++;
    const delay = now ? 0 : Math.max(minDelayMs, backoffDelay(this.backoff, this.attempt, this.o.random));
    this.emit('close', { code, reason, reconnectInMs: delay } as E['close']);
    this.retryTimer = setTimeout(() => void this.dial(), delay);
  }

  private halt(code: number, reason: string, errCode: ClientError['code'], status?: number): void {
    this.stopping = true;
    this.finish(code, reason, new ClientError(errCode, reason, status));
  }

  private finish(code: number, reason: string, error?: ClientError): void {
    if (this.stoppedInfo) return;
    this.stoppedInfo = { code, reason, error };
    this.emit('close', { code, reason } as E['close']);
    this.emit('stopped', this.stoppedInfo as E['stopped']);
  }
}

/** The redirect's socket endpoint, or undefined for a reason that holds no usable URL (ignored: a retry here). */
function safeEndpoint(url: string, path: string): string | undefined {
  try {
    return socketEndpoint(url, path);
  } catch {
    return undefined;
  }
}
