// Job ledger: load → change → compare-and-set commit → record the event → push the `job` frame. Every job change goes through here.
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import type { Metrics } from '../observability/metrics.js';
import type { Logger } from '../observability/logger.js';
import { ProtocolError } from '../protocol/errors.js';
import type { JobRecord } from '../protocol/job-record.js';
import type { JobStore } from '../storage/ports.js';
import type { JobNotifier } from '../bus/deliveries.js';
import type { Clock } from '../util/clock.js';
import type { ClaimOp, CommitResult, CreateResult, JobDoc, JobRepo } from './job-repo.js';
import { ASSIGNED_STATES, nextState } from './job-states.js';
import type { JobEventKind } from './job-states.js';
import { jobFrame } from './job-frames.js';
import type { DriverPoint } from './job-frames.js';
import { cloneData } from '../util/clone-data.js';

/**
 * Called once per committed state change, on the node that made it, after the event went to storage
 * and before the frames go out. `by` is who caused it: "rider", "driver:<id>", "dispatch".
 * A listener that throws is logged; it never undoes the commit nor stops the other listeners.
 */
export type RecordedListener = (rec: JobRecord, by: string) => void;

export interface JobLedgerDeps {
  repo: JobRepo;
  store: JobStore;
  notifier: JobNotifier;
  /** For the assigned driver's position in `job` frames. */
  fleet: FleetRegistry;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  recordedListeners?: readonly RecordedListener[];
}

/** Compare-and-set retries before a mutation gives up with `conflict`. */
export const MAX_CAS_RETRIES = 16;

/** A change to a copy of a job document: the claim ops to commit with it, or null for "nothing to do". */
export type JobChange = (d: JobDoc) => ClaimOp[] | null;

export class JobLedger {
  private readonly listeners: RecordedListener[];

  constructor(private readonly d: JobLedgerDeps) {
    this.listeners = [...(d.recordedListeners ?? [])];
  }

  /** Add a listener of committed state changes (never replaces one added before). */
  addRecordedListener(l: RecordedListener): void {
    this.listeners.push(l);
  }

  get(id: string): Promise<JobDoc | undefined> {
    return this.d.repo.get(id);
  }

  /**
   * Store a new job (version 1); the caller records its first event once the rest of its set-up is done.
   * 'rider_cap' (nothing stored) when its rider already has `maxOpenOfRider` live jobs.
   */
  insert(doc: JobDoc, maxOpenOfRider?: number): Promise<CreateResult> {
    return this.d.repo.create(doc, maxOpenOfRider);
  }

  /**
   * Compare-and-set `after` (a changed copy of `before`) with `claims`. On 'ok', a state change (a new
   * event seq) is recorded as `by`, and `onFrame` gets the `job` frame that went out for it.
   */
  async commit(before: JobDoc, after: JobDoc, claims: readonly ClaimOp[], by: string, onFrame?: (frame: Buffer) => void): Promise<CommitResult> {
    after.version = before.version + 1;
    const r = await this.d.repo.commit(after, before.version, claims);
    if (r === 'ok' && after.seq !== before.seq) {
      const frame = this.recorded(after, by);
      onFrame?.(frame);
    }
    return r;
  }

  /**
   * Load, change and compare-and-set a job, retrying on concurrent changes. `change` edits the copy and
   * returns the claim ops (or null for "nothing to do", then the result is null); it may throw
   * ProtocolError. `missing` runs when the job is not in the repository (default: not_found). A refused
   * claim is `conflict` with `claimFailedMsg`. `frame` is the `job` frame sent when the state changed.
   */
  async mutate(
    id: string,
    by: string,
    change: JobChange,
    missing?: () => Promise<undefined>,
    claimFailedMsg = 'driver claim refused',
  ): Promise<{ before: JobDoc; after: JobDoc; frame: Buffer | undefined } | null> {
    let frame: Buffer | undefined;
    const keep = (f: Buffer): void => {
      frame = f;
    };
    for (let i = 0; i < MAX_CAS_RETRIES; i++) {
      const before = await this.d.repo.get(id);
      if (!before) {
        if (missing) return (await missing()) ?? null;
        throw new ProtocolError('not_found', `no job ${id}`);
      }
      const after = cloneData(before);
      const claims = change(after);
      if (claims === null) return null;
      const r = await this.commit(before, after, claims, by, keep);
      if (r === 'claim_failed') throw new ProtocolError('conflict', claimFailedMsg);
      if (r === 'ok') return { before, after, frame };
    }
    throw new ProtocolError('conflict', `job ${id} is changing too fast: try again`);
  }

  /**
   * A committed state change: store its event, count it, tell the listeners, push the `job` frame to
   * rider, driver and ops (returned, so the node handling a driver's own action can answer with it).
   */
  recorded(doc: JobDoc, by: string): Buffer {
    const rec = doc.rec;
    this.d.store
      .appendJobEvent({ job: rec.id, seq: doc.seq, ts: rec.updated_ts, state: rec.state, by, snapshot: cloneData(rec) })
      .catch((err) => this.d.logger.error({ err, job: rec.id, seq: doc.seq }, 'job event not stored'));
    this.d.metrics.jobs.inc({ state: rec.state });
    for (const l of this.listeners) {
      try {
        l(rec, by);
      } catch (err) {
        this.d.logger.error({ err, job: rec.id }, 'job listener failed');
      }
    }
    const frame = this.frameOf(rec);
    this.d.notifier.jobChanged(rec, frame);
    if (rec.driver) this.d.notifier.toDriver(rec.driver, frame);
    else if (by.startsWith('driver:') && rec.state === 'dispatching') this.d.notifier.toDriver(by.slice(7), frame);
    if (!ASSIGNED_STATES.has(rec.state)) this.d.notifier.jobPosEnd(rec.id);
    return frame;
  }

  /** The `job` frame of a record, with its assigned driver's current position when this node knows it. */
  frameOf(rec: JobRecord): Buffer {
    return jobFrame(rec, this.driverPoint(rec.driver));
  }

  /** Apply a state-machine event to a doc copy: new state, timestamps, next event seq. conflict if illegal. */
  transition(d: JobDoc, event: JobEventKind): void {
    const to = nextState(d.rec.state, event);
    if (!to) throw new ProtocolError('conflict', `cannot ${event.replace('_', ' ')} a job that is ${d.rec.state}`);
    const now = this.d.clock.now();
    d.rec.state = to;
    d.rec.updated_ts = now;
    d.rec.times[to] = now;
    d.seq++;
  }

  private driverPoint(driver: string | null): DriverPoint | undefined {
    if (!driver) return undefined;
    const p = this.d.fleet.position(driver);
    return p ? { id: driver, lat: p.lat, lng: p.lng } : undefined;
  }
}
