// Dispatcher: offers a job to its best candidate (claim plus offer timer), ends expired offers, and watches for stranded jobs.
import type { DispatchSettings } from '../config/dispatch-settings.js';
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import type { EtaModel } from '../eta/eta-model.js';
import type { Metrics } from '../observability/metrics.js';
import type { Logger } from '../observability/logger.js';
import type { JobRecord } from '../protocol/job-record.js';
import type { Timers, TimerPayload } from '../bus/timers.js';
import type { JobNotifier } from '../bus/deliveries.js';
import type { Clock } from '../util/clock.js';
import type { ClaimOp, JobDoc } from './job-repo.js';
import { OFFER_CLAIM_GRACE_MS } from './job-repo.js';
import { ASSIGNED_STATES } from './job-states.js';
import { offerFrame, offerRevokedFrame } from './job-frames.js';
import { CandidateFinder } from './dispatch.js';
import { MAX_CAS_RETRIES } from './job-ledger.js';
import type { JobLedger } from './job-ledger.js';

export interface DispatcherDeps {
  ledger: JobLedger;
  fleet: FleetRegistry;
  eta: EtaModel;
  timers: Timers;
  notifier: JobNotifier;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  /** The dispatch settings of a city (defaults merged with the cities file's overrides), for a job created at `createdMs` (its experiment arm's params). */
  settings: (city: string, createdMs?: number) => DispatchSettings;
}

/** Timer kind of an offer's expiry. */
export const OFFER_TIMER = 'offer';
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

/**
 * Guarantees (with the repository's claims): one offer per job at a time, at most one offer per driver,
 * every offer ends (answer, expiry timer, or the watchdog for one that outlived its claim), and a job
 * `dispatching` without an offer gets its next step or ends `unfulfilled`.
 */
export class Dispatcher {
  private readonly finder: CandidateFinder;
  /** When the search for a job's next offer began on this node, ms: for the offer latency metric. */
  private readonly searchFrom = new Map<string, number>();

  constructor(private readonly d: DispatcherDeps) {
    this.finder = new CandidateFinder(d.fleet, d.eta);
  }

  /** Register the timer handlers (every node does, at start-up). */
  start(): void {
    this.d.timers.handle(OFFER_TIMER, (p) => this.offerExpired(p));
    this.d.timers.handle(DISPATCH_CHECK_TIMER, (p) => this.dispatchCheck(String(p.job), Number(p.n ?? 0)));
  }

  /** The search for the job's next offer begins now (or at `fromMs`): the offer latency is counted from here. */
  searching(id: string, fromMs = this.d.clock.now()): void {
    this.searchFrom.set(id, fromMs);
  }

  /** Delivery hook: a job that no longer waits for a driver (as every node hears it) is forgotten. */
  jobChanged(rec: JobRecord): void {
    if (!(rec.driver && ASSIGNED_STATES.has(rec.state))) this.searchFrom.delete(rec.id);
  }

  /** End the expiry timer of the job's offer number `attempt` (answered offers). */
  cancelOfferTimer(id: string, attempt: number): void {
    void this.d.timers.cancel(OFFER_TIMER, offerKey(id, attempt));
  }

  /** Run the next dispatch step without holding up the caller's reply (the driver's ack comes first). */
  dispatchLater(id: string): void {
    this.dispatch(id).catch((err) => this.d.logger.error({ err, job: id }, 'dispatch failed'));
  }

  /** Offer the job to the best candidate, or end it `unfulfilled` when there is none. */
  async dispatch(id: string): Promise<void> {
    const skip = new Set<string>();
    for (let i = 0; i < MAX_CAS_RETRIES * 4; i++) {
      const doc = await this.d.ledger.get(id);
      if (!doc || doc.rec.state !== 'dispatching' || doc.offer) return;
      const s = this.d.settings(doc.rec.city, doc.rec.created_ts);
      const now = this.d.clock.now();
      const best = doc.attempts < s.maxAttempts ? this.finder.best(doc, s, now, skip) : null;
      const next = structuredClone(doc);
      let claims: ClaimOp[] = [];
      if (best) {
        next.offer = best.id;
        next.attempts++;
        next.tried.push(best.id);
        next.offerExpires = now + s.offerTimeoutMs;
        next.rec.eta_s ??= best.eta;
        claims = [{ op: 'claimOffer', driver: best.id }];
      } else this.d.ledger.transition(next, 'give_up');
      // The offer's expiry timer goes out with the commit, not after it: a node dying between the two must
      // not leave an offer nobody ends. A timer for a commit that then fails finds no such offer: a no-op.
      const [r] = await Promise.all([
        this.d.ledger.commit(doc, next, claims, 'dispatch'),
        best ? this.d.timers.schedule(OFFER_TIMER, offerKey(id, next.attempts), s.offerTimeoutMs, { job: id, driver: best.id, n: next.attempts }) : undefined,
      ]);
      if (r === 'claim_failed') {
        skip.add(best!.id); // claimed by another job meanwhile
        continue;
      }
      if (r === 'conflict') continue;
      if (!best) return; // unfulfilled, recorded by the ledger
      this.d.notifier.toDriver(best.id, offerFrame(next.rec, best.eta, next.offerExpires));
      this.d.metrics.offerLatency.observe((this.d.clock.now() - (this.searchFrom.get(id) ?? now)) / 1000);
      return;
    }
    this.d.logger.warn({ job: id }, 'dispatch gave up after repeated conflicts; the dispatch watchdog retries');
    await this.watch(id);
  }

  /** Arm the watchdog for a job about to be created; never rejects (a failure is logged: the watchdog is a safety net). */
  watchNew(id: string): Promise<void> {
    return this.watch(id).catch((err: unknown) => this.d.logger.warn({ err, job: id }, 'dispatch watchdog not armed'));
  }

  /**
   * Arm the watchdog alongside a driver's decline or cancel, only when the job is really the driver's
   * (a driver cannot make timers for any job id it names). Runs concurrently with the commit; never
   * rejects (a failure is logged: the watchdog is a safety net, the commit is what matters).
   */
  watchIf(id: string, mine: (d: JobDoc) => boolean): Promise<void> {
    return this.d.ledger.get(id).then(
      (d) => (d && mine(d) ? this.watch(id) : undefined),
    ).catch((err: unknown) => this.d.logger.warn({ err, job: id }, 'dispatch watchdog not armed'));
  }

  /** Disarm the watchdog of a job that was never stored (its create was refused). */
  unwatch(id: string): Promise<void> {
    return this.d.timers.cancel(DISPATCH_CHECK_TIMER, id).catch((err: unknown) => this.d.logger.warn({ err, job: id }, 'dispatch watchdog not disarmed'));
  }

  /**
   * (Re)arm the job's dispatch watchdog (replaces an earlier one). Re-arming from the watchdog itself uses a new
   * key per round (`<job>_w<n>`): a durable timer cannot replace itself while it runs (BullMQ keeps the running job).
   */
  private watch(id: string, n = 0): Promise<void> {
    return this.d.timers.schedule(DISPATCH_CHECK_TIMER, n ? `${id}_w${n}` : id, DISPATCH_CHECK_MS, { job: id, n });
  }

  /**
   * The watchdog fired: a job still `dispatching` without an offer is dispatched; one whose offer was never expired,
   * expired; either way the next round is armed first, so the watch lasts until the job leaves `dispatching`.
   */
  private async dispatchCheck(id: string, n: number): Promise<void> {
    const doc = await this.d.ledger.get(id);
    if (!doc || doc.rec.state !== 'dispatching') return;
    await this.watch(id, n + 1);
    if (doc.offer === null) {
      this.d.logger.info({ job: id }, 'job found without an offer: dispatching it again');
      this.searching(id);
      return this.dispatch(id);
    }
    // Normally the durable offer timer ends an offer; this only catches one that outlived its claim.
    if (this.d.clock.now() > doc.offerExpires + OFFER_CLAIM_GRACE_MS) await this.offerExpired({ job: id, driver: doc.offer, n: doc.attempts });
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
    this.searching(id);
    await this.dispatch(id);
  }
}

/** Timer key of one offer: BullMQ job ids may not contain ':'. */
function offerKey(job: string, attempt: number): string {
  return `${job}_${attempt}`;
}
