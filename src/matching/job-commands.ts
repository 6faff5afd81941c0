// Job commands: what riders and drivers ask of their jobs (create, cancel, answer offers, trip progress, status, reconnect).
import { newJobId } from '../protocol/job-id.js';
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import { DriverStatus } from '../fleet/driver-status.js';
import type { EtaModel } from '../eta/eta-model.js';
import { ProtocolError } from '../protocol/errors.js';
import type { JobRecord } from '../protocol/job-record.js';
import type { DriverStatusName, LatLng } from '../protocol/messages.js';
import { DEFAULT_PRODUCT } from '../protocol/products.js';
import type { JobStore } from '../storage/ports.js';
import type { JobNotifier } from '../bus/deliveries.js';
import type { Clock } from '../util/clock.js';
import type { ClaimOp, JobDoc, JobRepo } from './job-repo.js';
import { ASSIGNED_STATES } from './job-states.js';
import type { JobEventKind } from './job-states.js';
import { offerRevokedFrame } from './job-frames.js';
import type { JobLedger } from './job-ledger.js';
import type { Dispatcher } from './dispatcher.js';
import type { ActiveJobs } from './active-jobs.js';
import type { PolicySelector } from './dispatch-policy.js';

export interface JobCommandsDeps {
  ledger: JobLedger;
  dispatcher: Dispatcher;
  active: ActiveJobs;
  /** Claims of a driver (held offer, active job): read straight from the repository. */
  repo: JobRepo;
  /** Finished jobs no longer in the repository. */
  store: JobStore;
  fleet: FleetRegistry;
  eta: EtaModel;
  notifier: JobNotifier;
  clock: Clock;
  /** Most live jobs one rider may hold (across every node); unlimited when absent. */
  maxOpenJobsPerRider?: number;
  /** The policy choice of a new job: its experiment arm, if any, is recorded on the job. */
  policyFor?: PolicySelector;
  /** Refuses (throws PickupNotAllowedError) a pickup at (lat, lng) degrees in `city` where jobs may not start; absent: none refused. */
  checkPickup?: (city: string, lat: number, lng: number) => void;
}

/** A rider at its open-jobs cap asked for another job: 409 `conflict` (waiting helps only once a job ends). */
export class OpenJobsCapError extends ProtocolError {
  constructor(readonly max: number) {
    super('conflict', `rider already has ${max} open jobs (the most allowed, TAXIWAY_MAX_OPEN_JOBS_PER_RIDER): cancel one or wait for one to end`);
  }
}

/** What a driver may do to a job (the `t` of its frame). */
export type DriverKind = 'accept' | 'decline' | 'arrived' | 'start' | 'complete' | 'cancel';

/** The state each trip step leads to: the same step again, by the assigned driver, finds it done. */
const STEP_REACHES: Partial<Record<DriverKind, JobRecord['state']>> = { arrived: 'arrived', start: 'in_progress', complete: 'completed' };

export class JobCommands {
  constructor(private readonly d: JobCommandsDeps) {}

  /**
   * Create a job for `rider`, run its first dispatch step, and return it. `product` defaults to the city's
   * default product. bad_request outside every city, or for a product the city does not offer; conflict
   * when the rider already holds `maxOpenJobsPerRider` live jobs.
   */
  async create(rider: string, pickup: LatLng, dropoff: LatLng | null, product?: string): Promise<JobRecord> {
    const city = this.d.fleet.locator.locate(pickup.lat, pickup.lng);
    if (city === null) throw new ProtocolError('bad_request', 'pickup is outside every served city');
    this.d.checkPickup?.(city, pickup.lat, pickup.lng);
    const offered = this.d.fleet.city(city)?.offered;
    if (offered) {
      product ??= offered.defaultProduct;
      if (!offered.offers(product)) throw new ProtocolError('bad_request', `product ${product} is not offered in ${city} (${offered.names.join(', ')})`);
    }
    product ??= DEFAULT_PRODUCT;
    const now = this.d.clock.now();
    const rec: JobRecord = {
      id: newJobId(city), state: 'dispatching', rider, driver: null, pickup, dropoff, product, city,
      created_ts: now, updated_ts: now, times: { dispatching: now },
    };
    // Decided once, at creation, from (city, created_ts) alone: every node and every later event agree.
    const arm = this.d.policyFor?.(city, now).arm;
    if (arm !== undefined) rec.arm = arm;
    const doc: JobDoc = { rec, seq: 1, attempts: 0, offer: null, offerExpires: 0, tried: [], version: 1 };
    const max = this.d.maxOpenJobsPerRider;
    const [created] = await Promise.all([this.d.ledger.insert(doc, max), this.d.dispatcher.watchNew(rec.id, city)]);
    if (created === 'rider_cap') {
      await this.d.dispatcher.unwatch(rec.id, city);
      throw new OpenJobsCapError(max!);
    }
    this.d.ledger.recorded(doc, 'rider');
    await this.d.dispatcher.dispatch(rec.id);
    return (await this.d.ledger.get(rec.id))?.rec ?? rec;
  }

  /** A job from the live repository, else from storage (finished jobs kept longer). */
  async find(id: string): Promise<JobRecord | undefined> {
    return (await this.d.ledger.get(id))?.rec ?? (await this.d.store.getJob(id));
  }

  /** Rider cancels one of its jobs. not_found when it is not the rider's, conflict when too late. */
  async riderCancel(rider: string, id: string): Promise<JobRecord> {
    const r = await this.d.ledger.mutate(id, 'rider', (d) => {
      if (d.rec.rider !== rider) throw new ProtocolError('not_found', `no job ${id} for this rider`);
      this.d.ledger.transition(d, 'rider_cancel');
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
    this.d.dispatcher.searchEnded(id, before.rec.city);
    if (before.offer) {
      this.d.dispatcher.cancelOfferTimer(id, before.rec.city, before.attempts);
      this.d.notifier.toDriver(before.offer, offerRevokedFrame(id, 'cancelled'));
    }
    if (before.rec.driver) this.freeDriver(before.rec.driver);
    return after.rec;
  }

  /**
   * A driver's answer to an offer or trip progress. not_found / conflict explain refusals. Returns the
   * `job` frame the action caused (also sent to the driver through the fan-out), if it changed the
   * job's state: the driver's socket delivers it before the `ack` (docs/protocol.md, order of replies).
   */
  async driverAction(driver: string, kind: DriverKind, id: string): Promise<Buffer | undefined> {
    if (kind === 'accept' || kind === 'decline') return this.answerOffer(driver, kind, id);
    const event: JobEventKind = kind === 'cancel' ? 'driver_cancel' : kind;
    const watch = kind === 'cancel' ? this.d.dispatcher.watchIf(id, (d) => d.rec.driver === driver) : null;
    let done: JobDoc | undefined;
    const r = await this.d.ledger.mutate(id, 'driver:' + driver, (d) => {
      if (d.rec.driver !== driver) throw new ProtocolError('not_found', `job ${id} is not assigned to this driver`);
      // The step again, already done: a retry whose first answer was lost, or the Redis client sending the commit
      // again after a failover (it then meets its own write). Acknowledged, nothing changes (docs/protocol.md).
      if (STEP_REACHES[kind] === d.rec.state) {
        done = d;
        return null;
      }
      this.d.ledger.transition(d, event);
      const now = this.d.clock.now();
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
    if (done) return this.d.ledger.frameOf(done.rec);
    if (kind === 'cancel') {
      this.d.dispatcher.searching(id);
      this.d.dispatcher.dispatchLater(id);
    }
    return r?.frame;
  }

  /**
   * The driver's socket closed: an offer it held counts as declined; an active job stays its own; the driver
   * goes offline unless it came back meanwhile (`back()` true: a new socket on this node), or a newer fix of it
   * arrived (from the node it reconnected to) while this waited for Redis: marking it offline then would go out
   * with that node's position time and override the status the driver set there.
   */
  async driverDisconnected(driver: string, back: () => boolean = () => false): Promise<void> {
    const tsAtClose = this.d.fleet.position(driver)?.ts;
    await this.declineHeldOffer(driver);
    if (await this.d.repo.activeOf(driver)) return;
    if (back() || this.d.fleet.position(driver)?.ts !== tsAtClose) return;
    this.d.fleet.setStatus(driver, DriverStatus.offline);
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
    const doc = id ? await this.d.ledger.get(id) : undefined;
    if (!doc) return undefined;
    this.d.active.remember(driver, doc.rec);
    return this.d.ledger.frameOf(doc.rec);
  }

  /** Driver-set status. conflict when it would contradict an active job. */
  async setDriverStatus(driver: string, s: DriverStatusName): Promise<void> {
    if (s !== 'busy' && (await this.d.repo.activeOf(driver))) throw new ProtocolError('conflict', 'driver has an active job: status stays busy until it ends');
    if (s !== 'available') await this.declineHeldOffer(driver);
    this.d.fleet.setStatus(driver, DriverStatus[s]);
  }

  /** Accept or decline the driver's open offer of job `id`. */
  private async answerOffer(driver: string, kind: 'accept' | 'decline', id: string): Promise<Buffer | undefined> {
    const watch = kind === 'decline' ? this.d.dispatcher.watchIf(id, (d) => d.offer === driver) : null;
    let mine: JobDoc | undefined;
    const r = await this.d.ledger.mutate(id, 'driver:' + driver, (d) => {
      // An accept of a job that is already this driver's: a retry whose first answer was lost, or the Redis client
      // sending the commit again after a failover (it met its own write and answered `conflict`). Acknowledged.
      if (kind === 'accept' && d.rec.driver === driver && ASSIGNED_STATES.has(d.rec.state)) {
        mine = d;
        return null;
      }
      if (d.offer !== driver || d.rec.state !== 'dispatching') throw new ProtocolError('conflict', `no open offer of job ${id} for this driver`);
      d.offer = null;
      d.offerExpires = 0;
      if (kind === 'decline') return [{ op: 'releaseOffer', driver }];
      this.d.ledger.transition(d, 'accept');
      d.rec.driver = driver;
      const p = this.d.fleet.position(driver);
      if (p) d.rec.eta_s = this.d.eta.seconds(p.lat, p.lng, d.rec.pickup.lat, d.rec.pickup.lng, this.d.clock.now());
      return [{ op: 'promote', driver }];
    }, undefined, 'driver already has an active job');
    await watch;
    if (mine) {
      // What the first try did after its commit may not have run (its answer was the lost one).
      this.d.dispatcher.cancelOfferTimer(id, mine.rec.city, mine.attempts);
      this.d.dispatcher.offerEnded(driver);
      this.d.fleet.setStatus(driver, DriverStatus.busy);
      return this.d.ledger.frameOf(mine.rec);
    }
    this.d.dispatcher.cancelOfferTimer(id, r!.before.rec.city, r!.before.attempts);
    this.d.dispatcher.offerEnded(driver);
    if (kind === 'decline') {
      this.d.dispatcher.searching(id);
      this.d.dispatcher.dispatchLater(id);
    } else this.d.fleet.setStatus(driver, DriverStatus.busy);
    return r!.frame;
  }

  /** A driver whose job ended is available again, unless it set another status meanwhile. */
  private freeDriver(driver: string): void {
    if (this.d.fleet.statusOf(driver) === DriverStatus.busy) this.d.fleet.setStatus(driver, DriverStatus.available);
  }
}
