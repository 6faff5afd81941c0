// Offer maker: the one path every policy's offers and give-ups take (claim + commit + durable timers + frames), and a job's wait in its search window.
import type { DispatchSettings } from '../config/dispatch-settings.js';
import type { Metrics } from '../observability/metrics.js';
import type { Timers } from '../bus/timers.js';
import type { JobNotifier } from '../bus/deliveries.js';
import type { Clock } from '../util/clock.js';
import type { JobRecord } from '../protocol/job-record.js';
import type { CommitResult, JobDoc } from './job-repo.js';
import type { JobLedger } from './job-ledger.js';
import type { Candidate } from './dispatch.js';
import type { PolicyName } from './dispatch-policy.js';
import { offerFrame } from './job-frames.js';
import type { SearchBoard } from './search-board.js';
import { nextSearchStepMs, searchStart } from './search-window.js';
import { cloneData } from '../util/clone-data.js';

/** Timer kind of an offer's expiry. */
export const OFFER_TIMER = 'offer';
/** Timer kind of a waiting job's next search step: a wider radius, or the end of its search window. */
export const SEARCH_TIMER = 'search';

/** Timer key of one offer: BullMQ job ids may not contain ':'. */
export function offerKey(job: string, attempt: number): string {
  return `${job}_${attempt}`;
}

export interface OfferMakerDeps {
  ledger: JobLedger;
  timers: Timers;
  notifier: JobNotifier;
  metrics: Metrics;
  clock: Clock;
  board: SearchBoard;
}

export class OfferMaker {
  /** When the search for a job's next offer (after the first) began on this node, ms: for the offer latency metric. */
  readonly searchFrom = new Map<string, number>();
  /** Per waiting job, when its armed search timer fires (ms): the same step is not armed twice. */
  private readonly armed = new Map<string, number>();

  constructor(private readonly d: OfferMakerDeps) {}

  /**
   * Commit `cand`'s offer of `doc` (claiming the driver) and send it. 'claim_failed' when the driver holds
   * another offer or job, 'conflict' when the job changed meanwhile: nothing was offered, the caller retries.
   */
  async offer(doc: JobDoc, cand: Candidate, s: DispatchSettings, policy: PolicyName): Promise<CommitResult> {
    const now = this.d.clock.now();
    const next = cloneData(doc);
    next.offer = cand.id;
    next.attempts++;
    next.tried.push(cand.id);
    next.offerExpires = now + s.offerTimeoutMs;
    next.rec.eta_s ??= cand.eta;
    const id = doc.rec.id;
    // The offer's expiry timer goes out with the commit, not after it: a node dying between the two must
    // not leave an offer nobody ends. A timer for a commit that then fails finds no such offer: a no-op.
    const [r] = await Promise.all([
      this.d.ledger.commit(doc, next, [{ op: 'claimOffer', driver: cand.id }], 'dispatch'),
      this.d.timers.schedule(OFFER_TIMER, offerKey(id, next.attempts), s.offerTimeoutMs, { job: id, driver: cand.id, n: next.attempts }, doc.rec.city),
    ]);
    if (r !== 'ok') return r;
    this.d.notifier.toDriver(cand.id, offerFrame(next.rec, cand.eta, next.offerExpires));
    // The first offer counts from the job's creation (search window and batch window included); later
    // ones from when the previous offer ended (on this node), else from when the job's search began.
    const from = next.attempts === 1 ? doc.rec.created_ts : (this.searchFrom.get(id) ?? searchStart(doc.rec));
    this.d.metrics.offerLatency.observe({ policy }, Math.max(0, this.d.clock.now() - from) / 1000);
    this.searchFrom.delete(id);
    const e = this.d.board.get(id);
    if (e) e.quietUntil = next.offerExpires;
    return r;
  }

  /** End `doc` `unfulfilled` (nobody within its window or attempts). 'conflict' when it changed meanwhile. */
  async giveUp(doc: JobDoc): Promise<CommitResult> {
    const next = cloneData(doc);
    this.d.ledger.transition(next, 'give_up');
    const r = await this.d.ledger.commit(doc, next, [], 'dispatch');
    if (r === 'ok') this.ended(doc.rec.id);
    return r;
  }

  /**
   * `rec` found no driver and stays `dispatching`: keep it on the board (driver events wake it) and arm
   * its durable search timer for its next step (a wider radius or the window's end), so the search goes on
   * on another node if this one dies.
   */
  async wait(rec: JobRecord, policy: PolicyName, s: DispatchSettings): Promise<void> {
    const e = this.d.board.add(rec, policy, s);
    e.quietUntil = 0;
    this.d.metrics.searchWaiting.set(this.d.board.size);
    const elapsed = this.d.clock.now() - e.start;
    const delay = nextSearchStepMs(s, elapsed);
    const at = e.start + elapsed + delay;
    if (this.armed.get(rec.id) === at) return;
    this.armed.set(rec.id, at);
    await this.d.timers.schedule(SEARCH_TIMER, rec.id, delay, { job: rec.id }, rec.city);
  }

  /** The job left `dispatching` (or its search timer fired): forget this node's notes about it. */
  ended(id: string): void {
    this.armed.delete(id);
    this.searchFrom.delete(id);
  }

  /** The search timer of `id` fired: the next wait arms a new one. */
  searchFired(id: string): void {
    this.armed.delete(id);
  }
}
