// Jobs: creation, every state change (compare-and-set, timestamped, stored, pushed) and the offer loop.
import crypto from 'node:crypto';
import type { DispatchSettings } from '../config/dispatch-settings.js';
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import { DriverStatus } from '../fleet/city-fleet.js';
import type { EtaModel } from '../eta/eta-model.js';
import type { Metrics } from '../observability/metrics.js';
import type { Logger } from '../observability/logger.js';
import { ProtocolError } from '../protocol/errors.js';
import type { JobState, LatLng } from '../protocol/messages.js';
import type { JobRecord, JobStore } from '../storage/ports.js';
import type { Timers, TimerPayload } from '../bus/timers.js';
import type { JobNotifier } from '../bus/deliveries.js';
import type { ClaimOp, JobDoc, JobRepo } from './job-repo.js';
import { OFFER_CLAIM_GRACE_MS } from './job-repo.js';
import { ASSIGNED_STATES, nextState } from './job-states.js';
import type { JobEventKind } from './job-states.js';
import { jobFrame, offerFrame, offerRevokedFrame } from './job-frames.js';
import { PosRelay } from './pos-relay.js';
import { CandidateFinder } from './dispatch.js';

export type { JobNotifier };

export interface JobServiceDeps {
  fleet: FleetRegistry;
  repo: JobRepo;
  timers: Timers;
  store: JobStore;
  eta: EtaModel;
  notifier: JobNotifier;
  metrics: Metrics;
  logger: Logger;
  dispatch: DispatchSettings;
  /** Per-city dispatch overrides from the cities file. */
  cityDispatch: Map<string, Partial<DispatchSettings>>;
  /** Called once per committed state change, on the node that made it (e.g. to learn from trips). */
  onRecorded?: (rec: JobRecord) => void;
}

type DriverKind = 'accept' | 'decline' | 'arrived' | 'start' | 'complete' | 'cancel';

/** Compare-and-set retries before a mutation gives up with `conflict`. */
const MAX_CAS_RETRIES = 16;
const OFFER_TIMER = 'offer';
/**
 * Durable watchdog of a job that must get its next offer: armed with the commit that leaves a job without
 * one (before a creation, alongside a decline or driver cancel), so a node dying between that commit and the next offer
 * does not leave the job `dispatching` forever; when it fires, a job still without an offer is dispatched.
 */
export const DISPATCH_CHECK_TIMER = 'dispatch-check';
/** Delay of the dispatch watchdog, ms: far beyond a normal dispatch step (milliseconds). */
const DISPATCH_CHECK_MS = 10_000;

export class JobService {
  private readonly pos: PosRelay;
  private readonly finder: CandidateFinder;
  /** Assigned jobs by driver, learned from job events (every node sees them): drives `pos` frames. */
  private readonly activeByDriver = new Map<string, JobRecord>();
  /** When the search for a job's next offer began on this node, ms: for the offer latency metric. */
  private readonly searchFrom = new Map<string, number>();

  constructor(private readonly d: JobServiceDeps) {
    this.pos = new PosRelay(d.notifier, d.eta);
    this.finder = new CandidateFinder(d.fleet, d.eta);
  }

  start(): void {
    this.d.timers.handle(OFFER_TIMER, (p) => this.offerExpired(p));
    this.d.timers.handle(DISPATCH_CHECK_TIMER, (p) => this.dispatchCheck(String(p.job)));
  }

  stop(): void {
    this.pos.stop();
  }

  settings(city: string): DispatchSettings {
    const o = this.d.cityDispatch.get(city);
    return o ? { ...this.d.dispatch, ...o } : this.d.dispatch;
  }

  /** Create a job for `rider`, run its first dispatch step, and return it. bad_request outside every city. */
  async create(rider: string, pickup: LatLng, dropoff: LatLng | null, product: string): Promise<JobRecord> {
    const city = this.d.fleet.locator.locate(pickup.lat, pickup.lng);
    if (city === null) throw new ProtocolError('bad_request', 'pickup is outside every served city');
    const now = Date.now();
    const rec: JobRecord = {
      id: 'j_' + crypto.randomUUID(), state: 'dispatching', rider, driver: null, pickup, dropoff, product, city,
      created_ts: now, updated_ts: now, times: { dispatching: now },
    };
    const doc: JobDoc = { rec, seq: 1, attempts: 0, offer: null, offerExpires: 0, tried: [], version: 1 };
    await Promise.all([this.d.repo.create(doc), this.watchDispatch(rec.id).catch((err: unknown) => this.d.logger.warn({ err, job: rec.id }, 'dispatch watchdog not armed'))]);
    this.searchFrom.set(rec.id, now);
    this.recorded(doc, 'rider');
    await this.dispatchNext(rec.id);
    return (await this.d.repo.get(rec.id))?.rec ?? rec;
  }

  /** A job from the live repository, else from storage (finished jobs kept longer). */
  async find(id: string): Promise<JobRecord | undefined> {
    return (await this.d.repo.get(id))?.rec ?? (await this.d.store.getJob(id));
  }

  /** Rider cancels one of its jobs. not_found when it is not the rider's, conflict when too late. */
  async riderCancel(rider: string, id: string): Promise<JobRecord> {
    const r = await this.mutate(id, 'rider', (d) => {
      if (d.rec.rider !== rider) throw new ProtocolError('not_found', `no job ${id} for this rider`);
      transition(d, 'rider_cancel');
      const claims: ClaimOp[] = [];
      if (d.offer) claims.push({ op: 'releaseOffer', driver: d.offer });
      if (d.rec.driver) claims.push({ op: 'releaseActive', driver: d.rec.driver });
      d.offer = null;
      return claims;
    }, async () => {
      const rec = await this.d.store.getJob(id);
      if (rec && rec.rider === rider) throw new ProtocolError('conflict', `job is ${rec.state} and can no longer be cancelled`);
      throw new ProtocolError('not_found', `no job ${id} for this rider`);
    });
    const { before, after } = r!;
    if (before.offer) {
      void this.d.timers.cancel(OFFER_TIMER, offerKey(id, before.attempts));
      this.d.notifier.toDriver(before.offer, offerRevokedFrame(id, 'cancelled'));
    }
    if (before.rec.driver) this.freeDriver(before.rec.driver);
    return after.rec;
  }

  /** A driver's answer to an offer or trip progress. not_found / conflict explain refusals. */
  async driverAction(driver: string, kind: DriverKind, id: string): Promise<void> {
    const by = 'driver:' + driver;
    if (kind === 'accept' || kind === 'decline') {
      const watch = kind === 'decline' ? this.watchIf(id, (d) => d.offer === driver) : null;
      const r = await this.mutate(id, by, (d) => {
        if (d.offer !== driver || d.rec.state !== 'dispatching') throw new ProtocolError('conflict', `no open offer of job ${id} for this driver`);
        d.offer = null;
        d.offerExpires = 0;
        if (kind === 'decline') return [{ op: 'releaseOffer', driver }];
        transition(d, 'accept');
        d.rec.driver = driver;
        const p = this.d.fleet.position(driver);
        if (p) d.rec.eta_s = this.d.eta.seconds(p.lat, p.lng, d.rec.pickup.lat, d.rec.pickup.lng, Date.now());
        return [{ op: 'promote', driver }];
      }, undefined, 'driver already has an active job');
      await watch;
      void this.d.timers.cancel(OFFER_TIMER, offerKey(id, r!.before.attempts));
      if (kind === 'decline') {
        this.searchFrom.set(id, Date.now());
        this.dispatchLater(id);
      } else this.d.fleet.setStatus(driver, DriverStatus.busy);
      return;
    }
    const event: JobEventKind = kind === 'cancel' ? 'driver_cancel' : kind;
    const watch = kind === 'cancel' ? this.watchIf(id, (d) => d.rec.driver === driver) : null;
    await this.mutate(id, by, (d) => {
      if (d.rec.driver !== driver) throw new ProtocolError('not_found', `job ${id} is not assigned to this driver`);
      transition(d, event);
      const now = Date.now();
      const p = this.d.fleet.position(driver);
      if (kind === 'start' && d.rec.dropoff && p) d.rec.eta_s = this.d.eta.seconds(p.lat, p.lng, d.rec.dropoff.lat, d.rec.dropoff.lng, now);
      else if (kind !== 'start' || !d.rec.dropoff) delete d.rec.eta_s;
      if (kind === 'cancel') {
        d.rec.driver = null;
        if (!d.tried.includes(driver)) d.tried.push(driver);
      }
      return kind === 'cancel' || kind === 'complete' ? [{ op: 'releaseActive', driver }] : [];
    });
    await watch;
    if (kind === 'cancel' || kind === 'complete') this.freeDriver(driver);
    if (kind === 'cancel') {
      this.searchFrom.set(id, Date.now());
      this.dispatchLater(id);
    }
  }

  /** Run the next dispatch step without holding up the caller's reply (the driver's ack comes first). */
  private dispatchLater(id: string): void {
    this.dispatchNext(id).catch((err) => this.d.logger.error({ err, job: id }, 'dispatch failed'));
  }

  /** The driver's socket closed: an offer it held counts as declined; an active job stays its own. */
  async driverDisconnected(driver: string): Promise<void> {
    await this.declineHeldOffer(driver);
    if (!(await this.d.repo.activeOf(driver))) this.d.fleet.setStatus(driver, DriverStatus.offline);
  }

  /** The driver can no longer answer its offer (socket closed or replaced, went offline): it declined. */
  async declineHeldOffer(driver: string): Promise<void> {
    const id = await this.d.repo.offerOf(driver);
    if (id === undefined) return;
    await this.driverAction(driver, 'decline', id).catch((e) => {
      if (!(e instanceof ProtocolError)) throw e; // the offer ended meanwhile: nothing to decline
    });
  }

  /** On (re)connect: the `job` frame of the driver's active job, if any (and remember it for `pos`). */
  async activeJobFrame(driver: string): Promise<Buffer | undefined> {
    const id = await this.d.repo.activeOf(driver);
    const doc = id ? await this.d.repo.get(id) : undefined;
    if (!doc) return undefined;
    if (ASSIGNED_STATES.has(doc.rec.state as JobState)) this.activeByDriver.set(driver, doc.rec);
    return jobFrame(doc.rec, this.driverPoint(doc.rec.driver));
  }

  /** Driver-set status. conflict when it would contradict an active job. */
  async setDriverStatus(driver: string, s: 'available' | 'busy' | 'offline'): Promise<void> {
    if (s !== 'busy' && (await this.d.repo.activeOf(driver))) throw new ProtocolError('conflict', 'driver has an active job: status stays busy until it ends');
    if (s !== 'available') await this.declineHeldOffer(driver);
    this.d.fleet.setStatus(driver, s === 'available' ? DriverStatus.available : s === 'busy' ? DriverStatus.busy : DriverStatus.offline);
  }

  /** Whether `driver` has an assigned job (as this node last heard). */
  onTrip(driver: string): boolean {
    return this.activeByDriver.has(driver);
  }

  /** A fix moved `driver` (on this node): if it has an assigned job, its rider gets a throttled `pos`. */
  onDriverMove(driver: string, lat: number, lng: number, hdg: number, ts: number): void {
    const rec = this.activeByDriver.get(driver);
    if (rec) this.pos.moved(rec, lat, lng, hdg, ts);
  }

  /** Snapshot frame of a job record (for a rider that just subscribed). */
  frameOf(rec: JobRecord): Buffer {
    return jobFrame(rec, this.driverPoint(rec.driver));
  }

  /** Delivery hook: every job event on every node keeps the assigned-driver cache current. */
  jobChanged(rec: JobRecord): void {
    if (rec.driver && ASSIGNED_STATES.has(rec.state as JobState)) this.activeByDriver.set(rec.driver, rec);
    else {
      for (const [drv, r] of this.activeByDriver) if (r.id === rec.id) this.activeByDriver.delete(drv);
      this.pos.forget(rec.id);
      this.searchFrom.delete(rec.id);
    }
  }

  // --- dispatch ---------------------------------------------------------------------------------

  /** Offer the job to the best candidate, or end it `unfulfilled` when there is none. */
  private async dispatchNext(id: string): Promise<void> {
    const skip = new Set<string>();
    for (let i = 0; i < MAX_CAS_RETRIES * 4; i++) {
      const doc = await this.d.repo.get(id);
      if (!doc || doc.rec.state !== 'dispatching' || doc.offer) return;
      const s = this.settings(doc.rec.city);
      const now = Date.now();
      const best = doc.attempts < s.maxAttempts ? this.finder.best(doc, s, now, skip) : null;
      const next = structuredClone(doc);
      next.version = doc.version + 1;
      let claims: ClaimOp[] = [];
      if (best) {
        next.offer = best.id;
        next.attempts++;
        next.tried.push(best.id);
        next.offerExpires = now + s.offerTimeoutMs;
        next.rec.eta_s ??= best.eta;
        claims = [{ op: 'claimOffer', driver: best.id }];
      } else transition(next, 'give_up');
      // The offer's expiry timer goes out with the commit, not after it: a node dying between the two must
      // not leave an offer nobody ends. A timer for a commit that then fails finds no such offer: a no-op.
      const [r] = await Promise.all([
        this.d.repo.commit(next, doc.version, claims),
        best ? this.d.timers.schedule(OFFER_TIMER, offerKey(id, next.attempts), s.offerTimeoutMs, { job: id, driver: best.id, n: next.attempts }) : undefined,
      ]);
      if (r === 'claim_failed') {
        skip.add(best!.id); // claimed by another job meanwhile
        continue;
      }
      if (r === 'conflict') continue;
      if (!best) {
        this.recorded(next, 'dispatch');
        return;
      }
      this.d.notifier.toDriver(best.id, offerFrame(next.rec, best.eta, next.offerExpires));
      this.d.metrics.offerLatency.observe((Date.now() - (this.searchFrom.get(id) ?? now)) / 1000);
      return;
    }
    this.d.logger.warn({ job: id }, 'dispatch gave up after repeated conflicts; the dispatch watchdog retries');
    await this.watchDispatch(id);
  }

  /**
   * Arm the watchdog alongside a driver's decline or cancel, only when the job is really the driver's
   * (a driver cannot make timers for any job id it names). Runs concurrently with the commit; never
   * rejects (a failure is logged: the watchdog is a safety net, the commit is what matters).
   */
  private watchIf(id: string, mine: (d: JobDoc) => boolean): Promise<void> {
    return this.d.repo.get(id).then(
      (d) => (d && mine(d) ? this.watchDispatch(id) : undefined),
    ).catch((err: unknown) => this.d.logger.warn({ err, job: id }, 'dispatch watchdog not armed'));
  }

  /** (Re)arm the job's dispatch watchdog (replaces an earlier one). */
  private watchDispatch(id: string): Promise<void> {
    return this.d.timers.schedule(DISPATCH_CHECK_TIMER, id, DISPATCH_CHECK_MS, { job: id });
  }

  /** The watchdog fired: a job still `dispatching` without an offer is dispatched; one whose offer was never expired, expired. */
  private async dispatchCheck(id: string): Promise<void> {
    const doc = await this.d.repo.get(id);
    if (!doc || doc.rec.state !== 'dispatching') return;
    if (doc.offer === null) {
      this.d.logger.info({ job: id }, 'job found without an offer: dispatching it again');
      this.searchFrom.set(id, Date.now());
      return this.dispatchNext(id);
    }
    // Normally the durable offer timer ends an offer; this only catches one that outlived its claim.
    if (Date.now() > doc.offerExpires + OFFER_CLAIM_GRACE_MS) await this.offerExpired({ job: id, driver: doc.offer, n: doc.attempts });
  }

  private async offerExpired(p: TimerPayload): Promise<void> {
    const id = String(p.job);
    const driver = String(p.driver);
    const n = Number(p.n);
    const r = await this.mutate(id, 'dispatch', (d) => {
      if (d.offer !== driver || d.attempts !== n) return null; // answered or moved on already
      d.offer = null;
      d.offerExpires = 0;
      return [{ op: 'releaseOffer', driver }];
    }, async () => undefined);
    if (!r) {
      // Nothing to release: answered, or this timer fired before and its node died before the next offer.
      const doc = await this.d.repo.get(id);
      if (doc?.rec.state === 'dispatching' && doc.offer === null && doc.attempts === n) await this.dispatchNext(id);
      return;
    }
    this.d.notifier.toDriver(driver, offerRevokedFrame(id, 'expired'));
    this.searchFrom.set(id, Date.now());
    await this.dispatchNext(id);
  }

  private freeDriver(driver: string): void {
    if (this.d.fleet.statusOf(driver) === DriverStatus.busy) this.d.fleet.setStatus(driver, DriverStatus.available);
  }

  // --- state changes ----------------------------------------------------------------------------

  /**
   * Load, change and compare-and-set a job, retrying on concurrent changes. `change` edits the copy and
   * returns the claim ops (or null for "nothing to do"); it may throw ProtocolError. `missing` runs
   * when the job is not in the repository (default: not_found).
   */
  private async mutate(
    id: string,
    by: string,
    change: (d: JobDoc) => ClaimOp[] | null,
    missing?: () => Promise<undefined>,
    claimFailedMsg = 'driver claim refused',
  ): Promise<{ before: JobDoc; after: JobDoc } | null> {
    for (let i = 0; i < MAX_CAS_RETRIES; i++) {
      const before = await this.d.repo.get(id);
      if (!before) {
        if (missing) return (await missing()) ?? null;
        throw new ProtocolError('not_found', `no job ${id}`);
      }
      const after = structuredClone(before);
      const claims = change(after);
      if (claims === null) return null;
      after.version = before.version + 1;
      const r = await this.d.repo.commit(after, before.version, claims);
      if (r === 'claim_failed') throw new ProtocolError('conflict', claimFailedMsg);
      if (r === 'ok') {
        if (after.seq !== before.seq) this.recorded(after, by);
        return { before, after };
      }
    }
    throw new ProtocolError('conflict', `job ${id} is changing too fast: try again`);
  }

  /** A committed state change: store its event, count it, push the `job` frame to rider, driver and ops. */
  private recorded(doc: JobDoc, by: string): void {
    const rec = doc.rec;
    this.d.store
      .appendJobEvent({ job: rec.id, seq: doc.seq, ts: rec.updated_ts, state: rec.state, by, snapshot: structuredClone(rec) })
      .catch((err) => this.d.logger.error({ err, job: rec.id, seq: doc.seq }, 'job event not stored'));
    this.d.metrics.jobs.inc({ state: rec.state });
    this.d.onRecorded?.(rec);
    const frame = jobFrame(rec, this.driverPoint(rec.driver));
    this.d.notifier.jobChanged(rec, frame);
    if (rec.driver) this.d.notifier.toDriver(rec.driver, frame);
    else if (by.startsWith('driver:') && rec.state === 'dispatching') this.d.notifier.toDriver(by.slice(7), frame);
    if (!ASSIGNED_STATES.has(rec.state as JobState)) this.d.notifier.jobPosEnd(rec.id);
  }

  private driverPoint(driver: string | null): { id: string; lat: number; lng: number } | undefined {
    if (!driver) return undefined;
    const p = this.d.fleet.position(driver);
    return p ? { id: driver, lat: p.lat, lng: p.lng } : undefined;
  }
}

/** Apply a state-machine event to a doc copy: new state, timestamps, next event seq. conflict if illegal. */
function transition(d: JobDoc, event: JobEventKind): void {
  const to = nextState(d.rec.state as JobState, event);
  if (!to) throw new ProtocolError('conflict', `cannot ${event.replace('_', ' ')} a job that is ${d.rec.state}`);
  const now = Date.now();
  d.rec.state = to;
  d.rec.updated_ts = now;
  (d.rec.times as Record<string, number>)[to] = now;
  d.seq++;
}

/** Timer key of one offer: BullMQ job ids may not contain ':'. */
function offerKey(job: string, attempt: number): string {
  return `${job}_${attempt}`;
}
