// OpsClient: the ops stream (fleet snapshots, job changes) on /v1/ops/ws, subscribed again after every reconnect.
import type { AckFrame, FleetFrame, JobFrame, JobsSnapshotFrame } from '../protocol/messages.js';
import type { ClientError } from './client-error.js';
import { Connection } from './connection.js';
import type { ClientOptions, ConnectionEvents } from './connection.js';

/** Events of an OpsClient (plus those of every client: open, ready, close, stopped, frame, err, error). */
export interface OpsEvents extends ConnectionEvents {
  /** Every live driver of the subscribed city (or all), every 500 ms; latest-only: compare `ts`. */
  fleet: FleetFrame;
  /** A job changed state. */
  job: JobFrame;
  /**
   * The live jobs of the subscribed scope, after every `sub` (also the one re-sent after a reconnect):
   * keep per job the entry with the newest `ts`; `more` means page the rest with `GET /v1/jobs?state=live`.
   */
  jobs: JobsSnapshotFrame;
}

/**
 * An ops dashboard's connection. subscribe() once: the subscription is sent again after each reconnect,
 * and each `sub` brings a fresh `jobs` snapshot.
 */
export class OpsClient extends Connection<OpsEvents> {
  private sub: { city?: string } | undefined;
  private resubscribed: Promise<AckFrame> | undefined;

  constructor(o: ClientOptions) {
    super(o, '/v1/ops/ws');
  }

  /**
   * Start (or re-target) the stream: `city` limits it to one served city (`not_found` for an unknown
   * one). Called while offline, it waits for the connection.
   */
  async subscribe(city?: string): Promise<AckFrame> {
    this.sub = city === undefined ? {} : { city };
    if (!this.connected) {
      await this.whenReady();
      if (this.resubscribed) return this.resubscribed; // opened() already sent it
    }
    return this.request({ t: 'sub', ...this.sub });
  }

  /** Stop the stream. */
  async unsubscribe(): Promise<void> {
    this.sub = undefined;
    if (this.connected) await this.request({ t: 'unsub' });
  }

  protected opened(): void {
    this.resubscribed = undefined;
    if (this.sub) {
      this.resubscribed = this.request({ t: 'sub', ...this.sub }, this.requestTimeoutMs, true);
      this.resubscribed.catch((err: ClientError) => {
        if (err.code !== 'disconnected') this.emit('error', err);
      });
    }
    this.markReady();
  }

  protected closed(): void {}

  protected handle(f: { t: string; [k: string]: unknown }): void {
    if (f.t === 'fleet') this.emit('fleet', f as unknown as FleetFrame);
    else if (f.t === 'job') this.emit('job', f as unknown as JobFrame);
    else if (f.t === 'jobs') this.emit('jobs', f as unknown as JobsSnapshotFrame);
  }
}
