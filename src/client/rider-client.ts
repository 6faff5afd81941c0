// RiderClient: request jobs over HTTP and follow them on /v1/rider/ws, followed again after every reconnect.
import { isFinalState } from '../protocol/job-record.js';
import type { JobRecord } from '../protocol/job-record.js';
import type { AckFrame, JobFrame, LatLng, PosFrame } from '../protocol/messages.js';
import type { ClientError } from './client-error.js';
import { Connection } from './connection.js';
import type { ClientOptions, ConnectionEvents } from './connection.js';
import { callJson, connectionRefused, httpOrigin } from './http-api.js';

/** Events of a RiderClient (plus those of every client: open, ready, close, stopped, frame, err, error). */
export interface RiderEvents extends ConnectionEvents {
  /** A followed job changed state; after each `follow` (and each reconnect) a snapshot of its current state. */
  job: JobFrame;
  /** Live position of a followed job's driver, at most one per second per job (`ts` is the fix time, ms). */
  pos: PosFrame;
}

/** A job request (`POST /v1/jobs`). */
export interface JobRequest {
  /** Where to be picked up, degrees. */
  pickup: LatLng;
  /** Where to go, degrees; absent or null: not known yet. */
  dropoff?: LatLng | null;
  /** Product (`taxi`, `xl`, …); absent: the city's default. */
  product?: string;
}

/**
 * A rider app's connection: createJob() over HTTP, follow() the job on the rider socket. Followed jobs are
 * followed again after a reconnect (each gives a fresh `job` snapshot) and dropped once a `job` frame
 * shows a final state.
 */
export class RiderClient extends Connection<RiderEvents> {
  private readonly followed = new Set<string>();
  private readonly subs = new Map<string, Promise<AckFrame>>();
  /** HTTP origins to call: `httpUrl`, or those of `[url, ...urls]`; `originIndex` is the one that answered last. */
  private readonly origins: string[];
  private originIndex = 0;

  constructor(o: ClientOptions & { /** HTTP origin of the API (default: derived from `url`, and `urls` for failover). */ httpUrl?: string }) {
    super(o, '/v1/rider/ws');
    this.origins = o.httpUrl !== undefined ? [httpOrigin(o.httpUrl)] : [...new Set([o.url, ...(o.urls ?? [])].map(httpOrigin))];
  }

  /** Jobs followed now (re-followed after each reconnect). */
  get following(): ReadonlySet<string> {
    return this.followed;
  }

  /**
   * Follow `job` (your own): resolves with the `sub` ack, after which its `job` snapshot arrives. Called
   * while offline, it waits for the connection. Rejects with `not_found` for a job that is not yours.
   */
  async follow(job: string): Promise<AckFrame> {
    this.followed.add(job);
    try {
      if (!this.connected) {
        await this.whenReady();
        const pending = this.subs.get(job);
        if (pending) return await pending;
      }
      return await this.subscribe(job);
    } catch (err) {
      if ((err as ClientError).code !== 'disconnected') this.followed.delete(job);
      throw err;
    }
  }

  /** Stop following `job`. Resolves at once when offline (nothing to tell the server). */
  async unfollow(job: string): Promise<void> {
    this.followed.delete(job);
    if (this.connected) await this.request({ t: 'unsub', job });
  }

  /** `POST /v1/jobs`: resolves with the job record (201); rejects with a ClientError (`rate_limited`, `conflict`, …). */
  createJob(req: JobRequest): Promise<JobRecord> {
    return this.http('POST', '/v1/jobs', req);
  }

  /** `GET /v1/jobs/:id`. */
  getJob(job: string): Promise<JobRecord> {
    return this.http('GET', `/v1/jobs/${encodeURIComponent(job)}`);
  }

  /** `POST /v1/jobs/:id/cancel`: resolves with the cancelled job's record; `conflict` once the trip started. */
  cancelJob(job: string): Promise<JobRecord> {
    return this.http('POST', `/v1/jobs/${encodeURIComponent(job)}/cancel`, {});
  }

  protected opened(): void {
    this.subs.clear();
    for (const job of this.followed) this.subs.set(job, this.subscribe(job, true));
    this.markReady();
  }

  protected closed(): void {
    this.subs.clear();
  }

  protected handle(f: { t: string; [k: string]: unknown }): void {
    if (f.t === 'job') {
      const j = f as unknown as JobFrame;
      if (isFinalState(j.state)) this.followed.delete(j.job);
      this.emit('job', j);
    } else if (f.t === 'pos') this.emit('pos', f as unknown as PosFrame);
  }

  private subscribe(job: string, resubscribe = false): Promise<AckFrame> {
    const p = this.request({ t: 'sub', job }, this.requestTimeoutMs, true);
    if (resubscribe) {
      p.catch((err: ClientError) => {
        if (err.code === 'disconnected') return;
        this.followed.delete(job);
        this.emit('error', err);
      });
    }
    return p;
  }

  private async http<T>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await this.httpAnyNode<T>(method, path, await this.httpToken(), body);
    } catch (err) {
      if ((err as ClientError).status !== 401 || !this.tokenRenewable) throw err;
      return this.httpAnyNode<T>(method, path, await this.httpToken(true), body);
    }
  }

  /** One call; a node that refuses the connection (so never saw the request, even a POST) is passed for the next one. */
  private async httpAnyNode<T>(method: string, path: string, token: string, body?: unknown): Promise<T> {
    for (let tried = 1; ; tried++) {
      try {
        return await callJson<T>(method, this.origins[this.originIndex]! + path, token, body);
      } catch (err) {
        if (!connectionRefused(err) || tried >= this.origins.length) throw err;
        this.originIndex = (this.originIndex + 1) % this.origins.length;
      }
    }
  }
}
