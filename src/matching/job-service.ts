// Jobs: creation, every state change (timestamped, stored, pushed), and the dispatch loop of offers.
import crypto from 'node:crypto';
import type { DispatchSettings } from '../config.js';
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import { DriverStatus, NearestResult } from '../fleet/city-fleet.js';
import type { EtaModel } from '../eta/eta-model.js';
import type { Metrics } from '../observability/metrics.js';
import type { Logger } from '../observability/logger.js';
import { ProtocolError } from '../protocol/errors.js';
import type { JobState, LatLng } from '../protocol/messages.js';
import type { JobRecord, JobStore } from '../storage/ports.js';
import type { Timers } from '../bus/timers.js';
import type { DriverClaims } from './claims.js';
import { ASSIGNED_STATES, isFinal, nextState } from './job-states.js';
import type { JobEventKind } from './job-states.js';
import { jobFrame, offerFrame, offerRevokedFrame } from './job-frames.js';
import { PosRelay } from './pos-relay.js';

/** Where matching pushes frames; the WebSocket layer implements it. */
export interface JobNotifier {
  /** Send to a driver's open socket; false when it has none. */
  toDriver(driver: string, frame: Buffer): boolean;
  /** A job changed state: riders following it and ops dashboards get `frame`. */
  jobChanged(job: string, city: string, frame: Buffer): void;
  /** The assigned driver moved: riders following the job get the newest `frame` (latest-only). */
  jobPos(job: string, frame: Buffer): void;
  /** The job no longer has a driver on the way: drop any `pos` frame still held for slow followers. */
  jobPosEnd(job: string): void;
}

interface JobEntry {
  rec: JobRecord;
  seq: number;
  tried: Set<string>;
  attempts: number;
  /** Driver holding the current offer. */
  offer: string | null;
  /** When the search for the next offer began (request, decline or expiry), ms: for the latency metric. */
  searchFrom: number;
}

export interface JobServiceDeps {
  fleet: FleetRegistry;
  claims: DriverClaims;
  timers: Timers;
  store: JobStore;
  eta: EtaModel;
  notifier: JobNotifier;
  metrics: Metrics;
  logger: Logger;
  dispatch: DispatchSettings;
  /** Per-city dispatch overrides from the cities file. */
  cityDispatch: Map<string, Partial<DispatchSettings>>;
}

const CANDIDATES = 16;
/** Finished jobs stay in memory this long for fast reads, then are served from storage, ms. */
const FINISHED_TTL_MS = 10 * 60_000;

export class JobService {
  private readonly jobs = new Map<string, JobEntry>();
  private readonly near = new NearestResult(CANDIDATES);
  private readonly pos: PosRelay;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly d: JobServiceDeps) {
    this.pos = new PosRelay(d.notifier, d.eta);
  }

  start(): void {
    this.sweeper = setInterval(() => this.evictFinished(Date.now()), 30_000);
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.pos.stop();
    this.d.timers.close();
  }

  settings(city: string): DispatchSettings {
    const o = this.d.cityDispatch.get(city);
    return o ? { ...this.d.dispatch, ...o } : this.d.dispatch;
  }

  /** Create a job for `rider` and start dispatching it. Throws bad_request outside the service area. */
  create(rider: string, pickup: LatLng, dropoff: LatLng | null, product: string): JobRecord {
    const city = this.d.fleet.locator.locate(pickup.lat, pickup.lng);
    if (city === null) throw new ProtocolError('bad_request', 'pickup is outside every served city');
    const now = Date.now();
    const rec: JobRecord = {
      id: 'j_' + crypto.randomUUID(),
      state: 'dispatching',
      rider,
      driver: null,
      pickup,
      dropoff,
      product,
      city,
      created_ts: now,
      updated_ts: now,
      times: { dispatching: now },
    };
    const e: JobEntry = { rec, seq: 0, tried: new Set(), attempts: 0, offer: null, searchFrom: now };
    this.jobs.set(rec.id, e);
    this.record(e, 'rider');
    this.dispatchNext(e);
    return rec;
  }

  /** A live job (or a recently finished one), without touching storage. */
  live(id: string): JobRecord | undefined {
    return this.jobs.get(id)?.rec;
  }

  /** A job from memory, else from storage (finished jobs, after a restart). */
  async find(id: string): Promise<JobRecord | undefined> {
    return this.jobs.get(id)?.rec ?? (await this.d.store.getJob(id));
  }

  /** Rider cancels one of its jobs. Throws not_found (not its job) or conflict (too late). */
  riderCancel(rider: string, id: string): JobRecord {
    const e = this.jobs.get(id);
    if (!e || e.rec.rider !== rider) throw new ProtocolError('not_found', `no job ${id} for this rider`);
    if (!nextState(e.rec.state as JobState, 'rider_cancel')) throw new ProtocolError('conflict', `job is ${e.rec.state} and can no longer be cancelled`);
    this.withdrawOffer(e, 'cancelled');
    const driver = e.rec.driver;
    this.transition(e, 'rider_cancel', 'rider');
    if (driver) this.freeDriver(driver, id);
    return e.rec;
  }

  /** A driver's answer or trip progress. Throws not_found or conflict with a message for `err`. */
  driverAction(driver: string, kind: 'accept' | 'decline' | 'arrived' | 'start' | 'complete' | 'cancel', id: string): void {
    const e = this.jobs.get(id);
    if (!e) throw new ProtocolError('not_found', `no job ${id}`);
    if (kind === 'accept' || kind === 'decline') {
      if (e.offer !== driver) throw new ProtocolError('conflict', `no open offer of job ${id} for this driver`);
      this.d.timers.cancel('offer:' + id);
      if (kind === 'decline') {
        this.endOffer(e, driver);
        this.dispatchNext(e);
        return;
      }
      if (!this.d.claims.promote(driver, id)) throw new ProtocolError('conflict', 'driver already has an active job');
      e.offer = null;
      e.rec.driver = driver;
      const p = this.d.fleet.position(driver);
      if (p) e.rec.eta_s = this.d.eta.seconds(p.lat, p.lng, e.rec.pickup.lat, e.rec.pickup.lng, Date.now());
      this.d.fleet.setStatus(driver, DriverStatus.busy);
      this.transition(e, 'accept', 'driver:' + driver);
      return;
    }
    if (e.rec.driver !== driver) throw new ProtocolError('not_found', `job ${id} is not assigned to this driver`);
    const event: JobEventKind = kind === 'cancel' ? 'driver_cancel' : kind;
    if (!nextState(e.rec.state as JobState, event)) throw new ProtocolError('conflict', `cannot ${kind} a job that is ${e.rec.state}`);
    if (kind === 'start' && e.rec.dropoff) {
      const p = this.d.fleet.position(driver);
      if (p) e.rec.eta_s = this.d.eta.seconds(p.lat, p.lng, e.rec.dropoff.lat, e.rec.dropoff.lng, Date.now());
    }
    if (kind === 'arrived' || kind === 'complete' || (kind === 'start' && !e.rec.dropoff)) delete e.rec.eta_s;
    if (kind === 'cancel') {
      e.rec.driver = null;
      delete e.rec.eta_s;
      this.freeDriver(driver, id);
      this.transition(e, 'driver_cancel', 'driver:' + driver);
      e.searchFrom = Date.now();
      this.dispatchNext(e);
      return;
    }
    this.transition(e, event, 'driver:' + driver);
    if (kind === 'complete') this.freeDriver(driver, id);
  }

  /** The driver's socket closed: an offer it held counts as declined; an active job stays its own. */
  driverDisconnected(driver: string): void {
    this.declineHeldOffer(driver);
    if (!this.d.claims.activeOf(driver)) this.d.fleet.setStatus(driver, DriverStatus.offline);
  }

  /** On (re)connect: the `job` frame of the driver's active job, if it has one. */
  activeJobFrame(driver: string): Buffer | undefined {
    const id = this.d.claims.activeOf(driver);
    const e = id ? this.jobs.get(id) : undefined;
    return e ? jobFrame(e.rec, this.driverPoint(e.rec.driver)) : undefined;
  }

  /** Driver-set status. Throws conflict when it would contradict an active job. */
  setDriverStatus(driver: string, s: 'available' | 'busy' | 'offline'): void {
    if (s !== 'busy' && this.d.claims.activeOf(driver)) throw new ProtocolError('conflict', 'driver has an active job: status stays busy until it ends');
    if (s !== 'available') this.declineHeldOffer(driver);
    this.d.fleet.setStatus(driver, s === 'available' ? DriverStatus.available : s === 'busy' ? DriverStatus.busy : DriverStatus.offline);
  }

  /** A fix moved `driver`: if it has an active job, its rider gets a (throttled) `pos`. */
  onDriverMove(driver: string, lat: number, lng: number, hdg: number, ts: number): void {
    const id = this.d.claims.activeOf(driver);
    if (id === undefined) return;
    const e = this.jobs.get(id);
    if (e && ASSIGNED_STATES.has(e.rec.state as JobState)) this.pos.moved(e.rec, lat, lng, hdg, ts);
  }

  /** Snapshot frame for a rider that just subscribed. */
  snapshotFrame(id: string): Buffer | undefined {
    const e = this.jobs.get(id);
    return e ? jobFrame(e.rec, this.driverPoint(e.rec.driver)) : undefined;
  }

  /** Every live job (for ops and tests). */
  *liveJobs(): IterableIterator<JobRecord> {
    for (const e of this.jobs.values()) yield e.rec;
  }

  // --- dispatch -------------------------------------------------------------------------------

  private dispatchNext(e: JobEntry): void {
    if (e.rec.state !== 'dispatching') return;
    const s = this.settings(e.rec.city);
    const now = Date.now();
    while (e.attempts < s.maxAttempts) {
      const best = this.bestCandidate(e, s, now);
      if (best === null) break;
      const { id: driver, eta } = best;
      if (!this.d.claims.claimOffer(driver, e.rec.id)) {
        e.tried.add(driver); // claimed elsewhere between search and claim: skip it
        continue;
      }
      e.tried.add(driver);
      e.attempts++;
      const expires = now + s.offerTimeoutMs;
      if (!this.d.notifier.toDriver(driver, offerFrame(e.rec, eta, expires))) {
        this.d.claims.releaseOffer(driver, e.rec.id); // no socket here: never really offered
        continue;
      }
      e.offer = driver;
      if (e.rec.eta_s === undefined) e.rec.eta_s = eta;
      this.d.metrics.offerLatency.observe((Date.now() - e.searchFrom) / 1000);
      this.d.timers.schedule('offer:' + e.rec.id, s.offerTimeoutMs, () => this.offerExpired(e.rec.id, driver));
      return;
    }
    this.transition(e, 'give_up', 'dispatch');
  }

  /** The available, fresh, unclaimed, not-yet-tried driver with the lowest ETA to pickup. */
  private bestCandidate(e: JobEntry, s: DispatchSettings, now: number): { id: string; eta: number } | null {
    const fleet = this.d.fleet.city(e.rec.city);
    if (!fleet) return null;
    const claims = this.d.claims;
    const freshAfter = now - s.staleMs;
    const filter = (slot: number): boolean => {
      if (fleet.status[slot] !== DriverStatus.available || fleet.ts[slot]! < freshAfter) return false;
      const id = fleet.idAt(slot);
      return !e.tried.has(id) && claims.offerOf(id) === undefined && claims.activeOf(id) === undefined;
    };
    const n = fleet.nearest(e.rec.pickup.lat, e.rec.pickup.lng, CANDIDATES, s.radiusM, filter, this.near);
    let bestSlot = -1;
    let bestEta = Infinity;
    for (let i = 0; i < n; i++) {
      const slot = this.near.slots[i]!;
      const eta = this.d.eta.seconds(fleet.lat[slot]!, fleet.lng[slot]!, e.rec.pickup.lat, e.rec.pickup.lng, now);
      if (eta < bestEta) {
        bestEta = eta;
        bestSlot = slot;
      }
    }
    return bestSlot < 0 ? null : { id: fleet.idAt(bestSlot), eta: bestEta };
  }

  private offerExpired(id: string, driver: string): void {
    const e = this.jobs.get(id);
    if (!e || e.offer !== driver) return;
    this.d.notifier.toDriver(driver, offerRevokedFrame(id, 'expired'));
    this.endOffer(e, driver);
    this.dispatchNext(e);
  }

  private endOffer(e: JobEntry, driver: string): void {
    e.offer = null;
    e.searchFrom = Date.now();
    this.d.claims.releaseOffer(driver, e.rec.id);
  }

  private withdrawOffer(e: JobEntry, reason: 'cancelled'): void {
    if (!e.offer) return;
    this.d.timers.cancel('offer:' + e.rec.id);
    this.d.notifier.toDriver(e.offer, offerRevokedFrame(e.rec.id, reason));
    this.endOffer(e, e.offer);
  }

  /** The driver can no longer answer its offer (socket closed or replaced, went offline): it declined. */
  declineHeldOffer(driver: string): void {
    const id = this.d.claims.offerOf(driver);
    if (id === undefined) return;
    const e = this.jobs.get(id);
    if (e && e.offer === driver) {
      this.d.timers.cancel('offer:' + id);
      this.endOffer(e, driver);
      this.dispatchNext(e);
    } else this.d.claims.releaseOffer(driver, id);
  }

  private freeDriver(driver: string, id: string): void {
    this.d.claims.releaseActive(driver, id);
    this.pos.forget(id);
    if (this.d.fleet.statusOf(driver) === DriverStatus.busy) this.d.fleet.setStatus(driver, DriverStatus.available);
  }

  // --- state changes ----------------------------------------------------------------------------

  private transition(e: JobEntry, event: JobEventKind, by: string): void {
    const to = nextState(e.rec.state as JobState, event);
    if (!to) throw new ProtocolError('conflict', `illegal transition ${e.rec.state} --${event}-->`);
    const now = Date.now();
    e.rec.state = to;
    e.rec.updated_ts = now;
    (e.rec.times as Record<string, number>)[to] = now;
    this.record(e, by);
  }

  /** Store the event (with a snapshot), count it, and push the `job` frame to rider, driver and ops. */
  private record(e: JobEntry, by: string): void {
    const rec = e.rec;
    e.seq++;
    const snapshot = structuredClone(rec);
    this.d.store
      .appendJobEvent({ job: rec.id, seq: e.seq, ts: rec.updated_ts, state: rec.state, by, snapshot })
      .catch((err) => this.d.logger.error({ err, job: rec.id, seq: e.seq }, 'job event not stored'));
    this.d.metrics.jobs.inc({ state: rec.state });
    const frame = jobFrame(rec, this.driverPoint(rec.driver));
    this.d.notifier.jobChanged(rec.id, rec.city, frame);
    if (rec.driver) this.d.notifier.toDriver(rec.driver, frame);
    else if (by.startsWith('driver:') && rec.state === 'dispatching') this.d.notifier.toDriver(by.slice(7), frame);
    if (!ASSIGNED_STATES.has(rec.state as JobState)) {
      this.pos.forget(rec.id);
      this.d.notifier.jobPosEnd(rec.id);
    }
  }

  private driverPoint(driver: string | null): { id: string; lat: number; lng: number } | undefined {
    if (!driver) return undefined;
    const p = this.d.fleet.position(driver);
    return p ? { id: driver, lat: p.lat, lng: p.lng } : undefined;
  }

  private evictFinished(now: number): void {
    for (const [id, e] of this.jobs) {
      if (isFinal(e.rec.state as JobState) && now - e.rec.updated_ts > FINISHED_TTL_MS) this.jobs.delete(id);
    }
  }
}

