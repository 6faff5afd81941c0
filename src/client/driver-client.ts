// DriverClient: the driver socket with fixes buffered while offline, offers, job actions and status restored on reconnect.
import type { AckFrame, DriverStatusName, HelloFrame, JobFrame, LocsAckFrame, LocsPoint, OfferFrame, OfferRevokedFrame, QueueFrame } from '../protocol/messages.js';
import { Limits } from '../protocol/messages.js';
import type { ClientError } from './client-error.js';
import { Connection } from './connection.js';
import type { ClientOptions, ConnectionEvents } from './connection.js';
import { FixBuffer } from './fix-buffer.js';

/** Options of a DriverClient. */
export interface DriverClientOptions extends ClientOptions {
  /** Most fixes kept while offline (default 7,200: two hours at one fix per second); past it the oldest go. */
  maxBufferedFixes?: number;
  /** Points per `locs` frame when flushing (default 500, at most 1,000: keeps frames well under 64 KiB). */
  locsBatch?: number;
  /** After a flush the fix budget cut short (`limited`), try the rest again this much later, ms (default 60,000). */
  limitedRetryMs?: number;
}

/** A GPS fix as the app reports it. */
export interface DriverFix {
  /** Latitude, degrees [-90, 90]. */
  lat: number;
  /** Longitude, degrees [-180, 180]. */
  lng: number;
  /** When the position was measured (the GPS fix time), ms since the epoch; default now. */
  ts?: number;
  /** Heading, degrees [0, 360). */
  hdg?: number;
  /** Speed, m/s. */
  spd?: number;
  /** Accuracy, metres. */
  acc?: number;
}

/** What the server made of the fixes the client sent (from `loc` replies and `locs` acks). */
export interface FixStats {
  /** Fixes sent live as `loc` while connected. */
  sentLive: number;
  /** Points sent in `locs` flushes (a point cut short by the budget and sent again counts again). */
  sentBuffered: number;
  /** Fixes waiting in the offline buffer now. */
  buffered: number;
  /** Fixes dropped from a full buffer, oldest first. */
  dropped: number;
  /** Stored by the server (`accepted` of `locs` acks, plus acked `loc`s). */
  accepted: number;
  /** Refused for good: invalid or `bad_location` (not sent again). */
  rejected: number;
  /** Resends the server recognised and dropped (`locs` acks). */
  duplicates: number;
  /** Refused by the fix budget (`rate_limited`): put back in the buffer and sent again later. */
  limited: number;
}

/** The counts of one flush of the offline buffer: the sums of its `locs` acks. */
export interface FlushResult { points: number; accepted: number; rejected: number; duplicates: number; limited: number }

/** Events of a DriverClient (plus those of every client: open, ready, close, stopped, frame, err, error). */
export interface DriverEvents extends ConnectionEvents {
  /** First frame on every (re)connect; `interval_ms` is how often to send a fix. */
  hello: HelloFrame;
  /** A job offered to this driver: accept() or decline() before `expires_ts`. */
  offer: OfferFrame;
  /** The offer ended without an answer (`expired`, or the rider `cancelled`). */
  offer_revoked: OfferRevokedFrame;
  /** The driver's job changed state; also right after `hello` when the driver holds an active job. */
  job: JobFrame;
  /** The driver's place in an airport queue (`position` 0 with `left: true` once out of it); taxiway extension, 2026-12-05. */
  queue: QueueFrame;
  /** The offline buffer was sent after a reconnect; counts as the server acked them. */
  flushed: FlushResult;
  /** The server refused a live fix (`bad_location`, `bad_request`, or `rate_limited`: then it is buffered and sent again later). */
  fix_refused: { code: string; msg: string; fix: LocsPoint };
}

/**
 * A driver app's connection to `/v1/driver/ws`. Send fixes with sendFix() whether online or not: while
 * offline they wait in a bounded buffer and go out as `locs` after the next `hello`. The last status set
 * with setStatus() is sent again after each reconnect (a `conflict` then is expected while the driver holds
 * a job, whose `job` frame follows the `hello`). Close 4001 (another socket of this driver) stops the client.
 */
export class DriverClient extends Connection<DriverEvents> {
  /** Counts of what happened to the fixes sent so far. */
  readonly fixes: Omit<FixStats, 'buffered' | 'dropped'> = { sentLive: 0, sentBuffered: 0, accepted: 0, rejected: 0, duplicates: 0, limited: 0 };
  private readonly buffer: FixBuffer;
  private readonly inFlight = new Map<number, LocsPoint>();
  private readonly locsBatch: number;
  private readonly limitedRetryMs: number;
  private wantedStatus: DriverStatusName | undefined;
  private hello: HelloFrame | undefined;
  private flushing = false;
  private limitedTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(o: DriverClientOptions) {
    super(o, '/v1/driver/ws');
    this.buffer = new FixBuffer(o.maxBufferedFixes ?? 7200);
    this.locsBatch = Math.min(Limits.maxLocsPoints, Math.max(1, o.locsBatch ?? 500));
    this.limitedRetryMs = o.limitedRetryMs ?? 60_000;
    this.on('stopped', () => clearTimeout(this.limitedTimer));
  }

  /** The fix counts, with the buffer's current size and drops. */
  get fixStats(): FixStats {
    return { ...this.fixes, buffered: this.buffer.size, dropped: this.buffer.dropped };
  }

  /** How often the server asks for a fix, ms (from the last `hello`; 1,000 before the first). */
  get intervalMs(): number {
    return this.hello?.interval_ms ?? 1000;
  }

  /** The driver id the server knows this socket by (from `hello`), once connected. */
  get driverId(): string | undefined {
    return this.hello?.driver;
  }

  /**
   * Report a fix. Connected: sent as `loc` at once (if the socket drops before its reply it is buffered
   * again). Offline: buffered, and sent in `locs` after the next `hello`.
   */
  sendFix(fix: DriverFix): void {
    const p: LocsPoint = [Math.round(fix.ts ?? Date.now()), fix.lat, fix.lng, fix.hdg ?? null, fix.spd ?? null, fix.acc ?? null];
    const id = this.sendWithId({ t: 'loc', ts: p[0], lat: p[1], lng: p[2], hdg: fix.hdg, spd: fix.spd, acc: fix.acc });
    if (id === undefined) return this.buffer.push(p);
    this.fixes.sentLive++;
    this.inFlight.set(id, p);
  }

  /**
   * Set the driver's status (`available` to get offers). Remembered and sent again after every reconnect.
   * Resolves with the ack; rejects with `conflict` while the driver holds an active job.
   */
  setStatus(s: DriverStatusName): Promise<AckFrame> {
    this.wantedStatus = s;
    return this.request({ t: 'status', s });
  }

  /** Accept the offer held for `job`: the `job` frame (state `accepted`) arrives before the ack. */
  accept(job: string): Promise<AckFrame> {
    return this.request({ t: 'accept', job });
  }

  /** Decline the offer held for `job`. */
  decline(job: string): Promise<AckFrame> {
    return this.request({ t: 'decline', job });
  }

  /** At the pickup. */
  arrived(job: string): Promise<AckFrame> {
    return this.request({ t: 'arrived', job });
  }

  /** The rider is aboard. */
  start(job: string): Promise<AckFrame> {
    return this.request({ t: 'start', job });
  }

  /** At the dropoff: the trip is done and the driver is `available` again. */
  complete(job: string): Promise<AckFrame> {
    return this.request({ t: 'complete', job });
  }

  /** Give back an accepted job (it is dispatched again); `reason` at most 500 characters, informational. */
  cancel(job: string, reason?: string): Promise<AckFrame> {
    return this.request({ t: 'cancel', job, reason });
  }

  protected opened(): void {
    // Ready comes with `hello`.
  }

  protected closed(): void {
    // Fixes whose reply never came may not have reached the server: send them again (a resend is harmless).
    if (this.inFlight.size > 0) {
      this.buffer.unshift([...this.inFlight.values()]);
      this.inFlight.clear();
    }
  }

  protected handle(f: { t: string; [k: string]: unknown }): boolean | void {
    if ((f.t === 'ack' || f.t === 'err') && typeof f.id === 'number') {
      const p = this.inFlight.get(f.id);
      if (!p) return;
      this.inFlight.delete(f.id);
      if (f.t === 'ack') {
        this.fixes.accepted++;
        return true;
      }
      if (f.code === 'rate_limited') {
        this.fixes.limited++;
        this.buffer.unshift([p]);
        this.scheduleLimitedRetry();
      } else this.fixes.rejected++;
      this.emit('fix_refused', { code: String(f.code), msg: String(f.msg), fix: p });
      return true;
    }
    switch (f.t) {
      case 'hello':
        this.hello = f as unknown as HelloFrame;
        this.restoreStatus();
        this.markReady();
        this.emit('hello', this.hello);
        void this.flush();
        return;
      case 'offer':
        return this.emit('offer', f as unknown as OfferFrame);
      case 'offer_revoked':
        return this.emit('offer_revoked', f as unknown as OfferRevokedFrame);
      case 'job':
        return this.emit('job', f as unknown as JobFrame);
      case 'queue':
        return this.emit('queue', f as unknown as QueueFrame);
      default:
        return; // frames of later protocol versions: the `frame` event has them
    }
  }

  private restoreStatus(): void {
    const s = this.wantedStatus;
    if (s === undefined) return;
    this.request({ t: 'status', s }, this.requestTimeoutMs, true).catch((err: ClientError) => {
      if (err.code !== 'conflict' && err.code !== 'disconnected') this.emit('error', err);
    });
  }

  /** Send the offline buffer as `locs` batches, oldest first, and report the acked counts. */
  private async flush(): Promise<void> {
    if (this.flushing || this.buffer.size === 0) return;
    this.flushing = true;
    const sum: FlushResult = { points: 0, accepted: 0, rejected: 0, duplicates: 0, limited: 0 };
    try {
      while (this.connected && this.buffer.size > 0) {
        const batch = this.buffer.take(this.locsBatch);
        // A `locs` with an id is answered with the four counts (LocsAckFrame).
        let ack: Partial<LocsAckFrame>;
        try {
          ack = await this.request({ t: 'locs', pts: batch });
        } catch {
          this.buffer.unshift(batch); // no reply: the next connect sends them again
          break;
        }
        const limited = ack.limited ?? 0;
        this.fixes.sentBuffered += batch.length;
        sum.points += batch.length;
        sum.accepted += ack.accepted ?? 0;
        sum.rejected += ack.rejected ?? 0;
        sum.duplicates += ack.duplicates ?? 0;
        sum.limited += limited;
        this.fixes.accepted += ack.accepted ?? 0;
        this.fixes.rejected += ack.rejected ?? 0;
        this.fixes.duplicates += ack.duplicates ?? 0;
        this.fixes.limited += limited;
        if (limited > 0) {
          // The budget is spent from the first limited point on: those are the batch's last ones.
          this.buffer.unshift(batch.slice(batch.length - limited));
          this.scheduleLimitedRetry();
          break;
        }
      }
    } finally {
      this.flushing = false;
    }
    if (sum.points > 0) this.emit('flushed', sum);
  }

  private scheduleLimitedRetry(): void {
    if (this.limitedTimer !== undefined) return;
    this.limitedTimer = setTimeout(() => {
      this.limitedTimer = undefined;
      if (this.connected) void this.flush();
    }, this.limitedRetryMs);
  }
}

