// Dispatcher: runs each job's dispatch policy, wakes waiting jobs on driver events, ends expired offers and searches, and watches for stranded jobs.
import type { DispatchSettings } from '../config/dispatch-settings.js';
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import { DriverStatus } from '../fleet/driver-status.js';
import { haversineMetres } from '../fleet/geo.js';
import type { EtaModel } from '../eta/eta-model.js';
import type { Metrics } from '../observability/metrics.js';
import type { Logger } from '../observability/logger.js';
import type { JobRecord } from '../protocol/job-record.js';
import type { Timers, TimerPayload } from '../bus/timers.js';
import type { JobNotifier } from '../bus/deliveries.js';
import type { Lease } from '../bus/lease.js';
import type { Clock } from '../util/clock.js';
import type { JobDoc, JobRepo } from './job-repo.js';
import { OFFER_CLAIM_GRACE_MS } from './job-repo.js';
import { offerRevokedFrame } from './job-frames.js';
import { CandidateFinder } from './dispatch.js';
import type { JobLedger } from './job-ledger.js';
import type { DispatchPolicy, PolicyName, PolicySelector } from './dispatch-policy.js';
import { OFFER_TIMER, OfferMaker, SEARCH_TIMER, offerKey } from './offer-maker.js';
import { SearchBoard } from './search-board.js';
import type { BoardEntry } from './search-board.js';
import { searchOver, searchRadiusM, searchStart } from './search-window.js';
import { GreedyPolicy } from './greedy-policy.js';
import { BatchedPolicy } from './batched-policy.js';
import { BatchLoop } from './batch-loop.js';
import type { QueueCandidates } from './queue-candidates.js';

export { OFFER_TIMER, SEARCH_TIMER } from './offer-maker.js';

export interface DispatcherDeps {
  ledger: JobLedger;
  /** For listing a city's dispatching jobs when this node takes its batch lease. */
  repo: JobRepo;
  fleet: FleetRegistry;
  eta: EtaModel;
  timers: Timers;
  notifier: JobNotifier;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  /** The dispatch settings of a city (defaults merged with the cities file's overrides; the policy's params are merged here, by `settingsOf`). */
  settings: (city: string, createdMs?: number) => DispatchSettings;
  /** Which policy (and parameters) dispatches a job, by its city and creation time. */
  policyFor: PolicySelector;
  /** Per-city lease: one batch solver per city across the cluster. */
  lease: Lease;
  /** This node's lease token (unique per process). */
  nodeId: string;
  /** Whether this node dispatches a city's jobs (TAXIWAY_SERVE_CITIES); absent: every city. */
  serves?: (city: string) => boolean;
  /** Airport queues (both policies offer a job picked up in one to its queue first); absent: none. */
  airport?: QueueCandidates;
}

/**
 * Durable watchdog of a job that must get its next offer: armed with the commit that leaves a job without
 * one (before a creation, alongside a decline or driver cancel), so a node dying between that commit and the next offer
 * does not leave the job `dispatching` forever; when it fires, a job still without an offer is dispatched, and
 * while the job stays `dispatching` it arms itself again (every DISPATCH_CHECK_MS), so an offer whose expiry
 * timer was lost (a Redis failover, a handler that failed every retry) is still ended.
 */
export const DISPATCH_CHECK_TIMER = 'dispatch-check';
/** Delay of the dispatch watchdog, ms: far beyond a normal dispatch step (milliseconds). */
export const DISPATCH_CHECK_MS = 10_000;
/** A waiting job woken by a driver event is not woken again by this node for this long, ms (the driver's next fix retries). */
export const WAKE_QUIET_MS = 100;

/**
 * Guarantees (with the repository's claims): one offer per job at a time, at most one offer per driver,
 * every offer ends (answer, expiry timer, or the watchdog for one that outlived its claim), and a job
 * `dispatching` without an offer gets its next offer, or waits in its search window (woken by driver
 * events and its durable search timer), or ends `unfulfilled`.
 */
export class Dispatcher {
  readonly board = new SearchBoard();
  readonly maker: OfferMaker;
  readonly greedy: GreedyPolicy;
  readonly batched: BatchedPolicy;
  readonly batches: BatchLoop;
  private readonly policies: Record<PolicyName, DispatchPolicy>;
  private readonly near: BoardEntry[] = [];

  constructor(private readonly d: DispatcherDeps) {
    const finder = new CandidateFinder(d.fleet, d.eta);
    this.maker = new OfferMaker({ ledger: d.ledger, timers: d.timers, notifier: d.notifier, metrics: d.metrics, clock: d.clock, board: this.board });
    const settingsOf = (rec: JobRecord): DispatchSettings => this.settingsOf(rec);
    this.greedy = new GreedyPolicy({ ledger: d.ledger, finder, maker: this.maker, clock: d.clock, logger: d.logger, settingsOf, stuck: (id, city) => this.watch(id, city), airport: d.airport });
    this.batches = new BatchLoop({
      lease: d.lease, token: d.nodeId, clock: d.clock, logger: d.logger,
      windowMs: (city) => ({ ...d.settings(city), ...d.policyFor(city, d.clock.now()).params }).batchWindowMs,
      hasWork: (city) => this.batched.hasWork(city),
      batches: (city) => d.policyFor(city, d.clock.now()).policy === 'batched',
      tick: async (city, resync) => {
        if (resync) await this.batched.resync(city);
        return this.batched.tick(city);
      },
    });
    this.batched = new BatchedPolicy({
      ledger: d.ledger, finder, maker: this.maker, board: this.board, clock: d.clock, logger: d.logger, metrics: d.metrics, settingsOf,
      policyOf: (rec) => d.policyFor(rec.city, rec.created_ts).policy,
      ensureLoop: (city) => this.batches.ensure(city),
      listDispatching: (city, limit, cursor) => d.repo.list({ state: 'dispatching', city, limit, cursor }),
      airport: d.airport,
    });
    this.policies = { greedy: this.greedy, batched: this.batched };
  }

  /** Register the timer handlers (every node does, at start-up). */
  start(): void {
    this.d.timers.handle(OFFER_TIMER, (p) => this.offerExpired(p));
    this.d.timers.handle(DISPATCH_CHECK_TIMER, (p) => this.dispatchCheck(String(p.job), Number(p.n ?? 0)));
    this.d.timers.handle(SEARCH_TIMER, (p) => this.searchStep(String(p.job)));
  }

  /** Stop the batch loops (and hand their leases back). */
  stop(): Promise<void> {
    return this.batches.stop();
  }

  /** The settings of a job: its city's, with the parameters its policy choice sets. */
  settingsOf(rec: JobRecord): DispatchSettings {
    return this.settingsAt(rec.city, rec.created_ts);
  }

  private settingsAt(city: string, createdMs: number): DispatchSettings {
    const p = this.d.policyFor(city, createdMs).params;
    const s = this.d.settings(city);
    return p ? { ...s, ...p } : s;
  }

  /**
   * The city's dispatch settings, policy or experiments changed (live catalog, on every node): each job
   * searching there takes its new policy and settings at once. A job moving to batched joins the city's
   * next batch; a greedy one (also one leaving batched) takes its next step now (every node does it: offers
   * are compare-and-set commits, so the losers of the race change nothing); the city's batch lease is given
   * back when the city no longer batches. Jobs with an offer out follow when it ends.
   */
  cityChanged(city: string): void {
    const greedy: string[] = [];
    for (const e of this.board.city(city)) {
      this.board.update(e, this.d.policyFor(city, e.created).policy, this.settingsAt(city, e.created));
      if (e.policy === 'greedy') greedy.push(e.id);
    }
    if (this.batched.hasWork(city)) this.batches.ensure(city);
    this.batches.check(city);
    // Greedy jobs (those leaving batched, and those waiting in their window, which look again with the new
    // settings: a wider radius may reach a driver now) take their next step at once.
    for (const id of greedy) this.dispatchLater(id);
  }

  /** The search for the job's next offer (not its first) begins now: the offer latency is counted from here. */
  searching(id: string, fromMs = this.d.clock.now()): void {
    this.maker.searchFrom.set(id, fromMs);
  }

  /** Delivery hook (every node hears every job change): the board learns which jobs of its cities are dispatching. */
  jobChanged(rec: JobRecord): void {
    // Another city's jobs are searched and batched by the nodes serving it (TAXIWAY_SERVE_CITIES).
    if (this.d.serves && !this.d.serves(rec.city)) return;
    if (rec.state === 'dispatching') {
      const choice = this.d.policyFor(rec.city, rec.created_ts);
      this.board.add(rec, choice.policy, this.settingsOf(rec));
      if (choice.policy === 'batched') this.batches.ensure(rec.city);
    } else {
      this.board.remove(rec.id);
      this.maker.ended(rec.id);
    }
    this.d.metrics.searchWaiting.set(this.board.size);
  }

  /**
   * Fleet hook (local changes and positions mirrored from other nodes): an available, fresh driver now
   * within the current radius of a waiting greedy job of its city, serving its product, wakes that job.
   * Cheap when nobody waits (a size check) and otherwise a box test per waiting job of the city.
   * Batched jobs need no wake-up: their next batch sees the driver.
   */
  driverChanged(id: string): void {
    if (this.board.size === 0) return;
    const fleet = this.d.fleet.fleetOf(id);
    if (!fleet) return;
    const slot = fleet.slotOf(id);
    if (slot < 0 || fleet.status[slot] !== DriverStatus.available) return;
    const lat = fleet.lat[slot]!;
    const lng = fleet.lng[slot]!;
    const near = this.board.near(fleet.name, lat, lng, this.near);
    if (near.length === 0) return;
    const now = this.d.clock.now();
    const wake: string[] = [];
    for (const e of near) {
      if (e.policy !== 'greedy' || e.quietUntil > now || fleet.ts[slot]! < now - e.s.staleMs) continue;
      if ((fleet.products[slot]! & fleet.offered.maskOf(e.product)) === 0) continue;
      if (haversineMetres(lat, lng, e.lat, e.lng) > searchRadiusM(e.s, now - e.start)) continue;
      e.quietUntil = now + WAKE_QUIET_MS;
      wake.push(e.id);
    }
    for (const j of wake) this.dispatchLater(j);
  }

  /** End the expiry timer of the job's offer number `attempt` (answered offers). */
  cancelOfferTimer(id: string, city: string, attempt: number): void {
    void this.d.timers.cancel(OFFER_TIMER, offerKey(id, attempt), city);
  }

  /** `driver`'s offer ended here (declined, accepted, expired): this node's batches may choose it again at once (another node's after the offer timeout). */
  offerEnded(driver: string): void {
    this.batched.driverFree(driver);
  }

  /** The job's search ended on this node's command (a rider cancel): its search timer goes at once. */
  searchEnded(id: string, city: string): void {
    this.board.remove(id);
    this.maker.ended(id);
    void this.d.timers.cancel(SEARCH_TIMER, id, city).catch((err: unknown) => this.d.logger.warn({ err, job: id }, 'search timer not cancelled'));
  }

  /** Run the next dispatch step without holding up the caller's reply (the driver's ack comes first). */
  dispatchLater(id: string): void {
    this.dispatch(id).catch((err) => this.d.logger.error({ err, job: id }, 'dispatch failed'));
  }

  /** The job needs its next offer: its policy makes it (or queues it for a batch), waits, or ends it `unfulfilled`. */
  async dispatch(id: string): Promise<void> {
    const doc = await this.d.ledger.get(id);
    if (!doc || doc.rec.state !== 'dispatching') return;
    if (doc.offer) {
      const e = this.board.get(id);
      if (e) e.quietUntil = doc.offerExpires; // woken while its offer is out: quiet until it ends
      return;
    }
    if (this.d.serves && !this.d.serves(doc.rec.city)) {
      // Served elsewhere (a handed-over driver declined here): this node holds none of that city's drivers,
      // so the job's search step runs now on a node serving its city (its timer queue).
      await this.d.timers.schedule(SEARCH_TIMER, id, 0, { job: id }, doc.rec.city);
      return;
    }
    const choice = this.d.policyFor(doc.rec.city, doc.rec.created_ts);
    await this.policies[choice.policy].dispatch(doc, this.settingsOf(doc.rec));
  }

  /** Arm the watchdog for a job about to be created; never rejects (a failure is logged: the watchdog is a safety net). */
  watchNew(id: string, city: string): Promise<void> {
    return this.watch(id, city).catch((err: unknown) => this.d.logger.warn({ err, job: id }, 'dispatch watchdog not armed'));
  }

  /**
   * Arm the watchdog alongside a driver's decline or cancel, only when the job is really the driver's
   * (a driver cannot make timers for any job id it names). Runs concurrently with the commit; never
   * rejects (a failure is logged: the watchdog is a safety net, the commit is what matters).
   */
  watchIf(id: string, mine: (d: JobDoc) => boolean): Promise<void> {
    return this.d.ledger.get(id).then(
      (d) => (d && mine(d) ? this.watch(id, d.rec.city) : undefined),
    ).catch((err: unknown) => this.d.logger.warn({ err, job: id }, 'dispatch watchdog not armed'));
  }

  /** Disarm the watchdog of a job that was never stored (its create was refused). */
  unwatch(id: string, city: string): Promise<void> {
    return this.d.timers.cancel(DISPATCH_CHECK_TIMER, id, city).catch((err: unknown) => this.d.logger.warn({ err, job: id }, 'dispatch watchdog not disarmed'));
  }

  /**
   * (Re)arm the job's dispatch watchdog (replaces an earlier one). Re-arming from the watchdog itself uses a new
   * key per round (`<job>_w<n>`): a durable timer cannot replace itself while it runs (BullMQ keeps the running job).
   */
  private watch(id: string, city: string, n = 0): Promise<void> {
    return this.d.timers.schedule(DISPATCH_CHECK_TIMER, n ? `${id}_w${n}` : id, DISPATCH_CHECK_MS, { job: id, n }, city);
  }

  /**
   * The watchdog fired: a job still `dispatching` without an offer is dispatched; one whose offer was never expired,
   * expired; either way the next round is armed first, so the watch lasts until the job leaves `dispatching`.
   */
  private async dispatchCheck(id: string, n: number): Promise<void> {
    const doc = await this.d.ledger.get(id);
    if (!doc || doc.rec.state !== 'dispatching') return;
    await this.watch(id, doc.rec.city, n + 1);
    if (doc.offer === null) {
      // A waiting job has its search timer; one a node lost between commit and offer has only this.
      if (!this.board.get(id)) this.d.logger.info({ job: id }, 'job found without an offer: dispatching it again');
      return this.dispatch(id);
    }
    // Normally the durable offer timer ends an offer; this only catches one that outlived its claim.
    if (this.d.clock.now() > doc.offerExpires + OFFER_CLAIM_GRACE_MS) await this.offerExpired({ job: id, driver: doc.offer, n: doc.attempts });
  }

  /** A waiting job's search timer fired: search again at the next radius, or end it at the window's end. */
  private async searchStep(id: string): Promise<void> {
    this.maker.searchFired(id);
    const doc = await this.d.ledger.get(id);
    if (!doc || doc.rec.state !== 'dispatching' || doc.offer) return;
    const s = this.settingsOf(doc.rec);
    const over = searchOver(s, this.d.clock.now() - searchStart(doc.rec));
    const policy = this.d.policyFor(doc.rec.city, doc.rec.created_ts).policy;
    // Greedy looks a last time at the widest radius; a batched job had its chance in every batch.
    if (over && policy === 'batched') {
      if ((await this.maker.giveUp(doc)) === 'ok') this.board.remove(id);
      else await this.dispatch(id);
      return;
    }
    await this.dispatch(id);
  }

  private async offerExpired(p: TimerPayload): Promise<void> {
    const id = String(p.job);
    const driver = String(p.driver);
    const n = Number(p.n);
    const r = await this.d.ledger.mutate(id, 'dispatch', (d) => {
      if (d.offer !== driver || d.attempts !== n) return null; // answered or moved on already
      d.offer = null;
      d.offerExpires = 0;
      return [{ op: 'releaseOffer', driver }];
    }, async () => undefined);
    if (!r) {
      // Nothing to release: answered, or this timer fired before and its node died before the next offer.
      const doc = await this.d.ledger.get(id);
      if (doc?.rec.state === 'dispatching' && doc.offer === null && doc.attempts === n) await this.dispatch(id);
      return;
    }
    this.d.notifier.toDriver(driver, offerRevokedFrame(id, 'expired'));
    this.offerEnded(driver);
    this.searching(id);
    const e = this.board.get(id);
    if (e) e.quietUntil = 0;
    await this.dispatch(id);
  }
}
