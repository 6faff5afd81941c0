// Batched dispatch policy: a city's pending jobs wait for the next batch; each batch solves one minimum-cost assignment of jobs to drivers.
import type { DispatchSettings } from '../config/dispatch-settings.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { JobRecord } from '../protocol/job-record.js';
import type { JobDoc } from './job-repo.js';
import type { JobLedger } from './job-ledger.js';
import type { CandidateFinder, CandidateList } from './dispatch.js';
import { newCandidateList } from './dispatch.js';
import type { DispatchPolicy, PolicyName } from './dispatch-policy.js';
import type { OfferMaker } from './offer-maker.js';
import type { SearchBoard } from './search-board.js';
import { searchOver, searchRadiusM, searchStart } from './search-window.js';
import { solveAssignment } from './assignment.js';
import type { QueueCandidates } from './queue-candidates.js';

/**
 * Cost of leaving a job of the batch unassigned, s: larger than any pickup ETA within a search radius,
 * so the assignment serves as many jobs as it can first, then minimises their total pickup ETA.
 */
export const UNASSIGNED_PENALTY_S = 3600;
/** Most live jobs read per page when the lease holder relearns a city's dispatching jobs from the repository. */
const RESYNC_PAGE = 500;
/** Assignment rounds per batch: jobs whose chosen driver refused the claim are solved again without that driver. */
const CLAIM_ROUNDS = 3;

interface Pending { doc: JobDoc; s: DispatchSettings; elapsed: number }

export interface BatchedDeps {
  ledger: JobLedger;
  finder: CandidateFinder;
  maker: OfferMaker;
  board: SearchBoard;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  settingsOf: (rec: JobRecord) => DispatchSettings;
  policyOf: (rec: JobRecord) => PolicyName;
  /** Start the city's batch loop if it is not running (see BatchLoop). */
  ensureLoop: (city: string) => void;
  /** Pages of the city's `dispatching` jobs in the repository (for a node that just took the city's lease). */
  listDispatching: (city: string, limit: number, cursor?: string) => Promise<{ jobs: JobRecord[]; next: string | null }>;
  /** Airport queues: jobs picked up in one are pinned to their queue's head before the solver runs (absent: none). */
  airport?: QueueCandidates;
}

/** Result of one batch, for tests and the benchmark. */
export interface BatchResult { pending: number; offered: number; unassigned: number; gaveUp: number }

export class BatchedPolicy implements DispatchPolicy {
  readonly name = 'batched' as const;
  private readonly pool: CandidateList[] = [];
  /**
   * Drivers known to hold an offer (ms until which they are left out of batches): the finder sees
   * only fleet status, not claims, so without this a batch would choose a claimed driver again and again.
   * Dropped early when the driver's status changes (see `driverFree`).
   */
  private readonly busyUntil = new Map<string, number>();

  constructor(private readonly d: BatchedDeps) {}

  /** The job joins its city's next batch (on whichever node holds the city's lease: every node's board has it). */
  async dispatch(doc: JobDoc, s: DispatchSettings): Promise<void> {
    this.d.board.add(doc.rec, this.name, s);
    this.d.ensureLoop(doc.rec.city);
  }

  /** The driver answered or lost its offer (it declined, accepted, or the offer expired): it may be chosen again. */
  driverFree(id: string): void {
    this.busyUntil.delete(id);
  }

  /** Whether this node's board has batched jobs in `city` (its batch loop keeps running while it does). */
  hasWork(city: string): boolean {
    for (const e of this.d.board.city(city)) if (e.policy === this.name) return true;
    return false;
  }

  /** Put every `dispatching` job of the city in the repository on the board (a new lease holder may have missed deliveries). */
  async resync(city: string): Promise<void> {
    let cursor: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const r = await this.d.listDispatching(city, RESYNC_PAGE, cursor);
      for (const rec of r.jobs) if (rec.state === 'dispatching' && !this.d.board.get(rec.id)) this.d.board.add(rec, this.d.policyOf(rec), this.d.settingsOf(rec));
      if (!r.next) return;
      cursor = r.next;
    }
  }

  /**
   * One batch of `city` (run only by the holder of the city's lease): read its pending jobs, find each
   * one's k best candidates, solve the assignment, send the offers through the common path. A job whose
   * offer fails (driver claimed meanwhile, job changed) stays for the next batch.
   */
  async tick(city: string): Promise<BatchResult> {
    const started = performance.now();
    const entries = [...this.d.board.city(city)].filter((e) => e.policy === this.name);
    const res: BatchResult = { pending: 0, offered: 0, unassigned: 0, gaveUp: 0 };
    if (entries.length === 0) return res;
    const docs = await Promise.all(entries.map((e) => this.d.ledger.get(e.id)));
    const now = this.d.clock.now();
    const pending: Pending[] = [];
    const ends: Promise<unknown>[] = [];
    for (let i = 0; i < docs.length; i++) {
      const doc = docs[i];
      if (!doc || doc.rec.state !== 'dispatching') {
        this.d.board.remove(entries[i]!.id);
        continue;
      }
      if (doc.offer) continue; // its offer is out: it comes back when declined or expired
      const s = this.d.settingsOf(doc.rec);
      const elapsed = now - searchStart(doc.rec);
      if (doc.attempts >= s.maxAttempts) ends.push(this.end(doc, res));
      else pending.push({ doc, s, elapsed });
    }
    res.pending = pending.length;
    const busy = this.busyDrivers(now);
    let round = this.d.airport ? await this.pinQueued(pending, busy, now, res) : pending;
    for (let k = 0; k < CLAIM_ROUNDS && round.length > 0; k++) {
      round = await this.round(round, busy, now, res, ends);
    }
    this.d.metrics.batchSolve.observe((performance.now() - started) / 1000);
    await Promise.all(ends);
    return res;
  }

  /**
   * Solve the assignment of `jobs` without the `busy` drivers and send its offers; returns the jobs whose
   * driver turned out to hold another offer or job (a claim refused), with that driver now busy.
   */
  private async round(jobs: Pending[], busy: Set<string>, now: number, res: BatchResult, ends: Promise<unknown>[]): Promise<Pending[]> {
    while (this.pool.length < jobs.length) this.pool.push(newCandidateList());
    const lists = jobs.map((p, j) => this.d.finder.all(p.doc, p.s, now, busy, searchRadiusM(p.s, p.elapsed), this.pool[j]!));
    const choice = solveAssignment({
      drivers: lists.map((l) => l.slots.subarray(0, l.n)),
      costs: lists.map((l) => l.etas.subarray(0, l.n)),
    }, UNASSIGNED_PENALTY_S);
    const retry: Pending[] = [];
    const offers: Promise<void>[] = [];
    for (let j = 0; j < jobs.length; j++) {
      const p = jobs[j]!;
      const l = lists[j]!;
      const slot = choice[j]!;
      if (slot >= 0) {
        const i = l.slots.subarray(0, l.n).indexOf(slot);
        const cand = { id: l.ids[i]!, eta: l.etas[i]! };
        offers.push(this.d.maker.offer(p.doc, cand, p.s, this.name).then((r) => {
          this.d.metrics.batchJobs.inc({ outcome: r === 'ok' ? 'offered' : r });
          if (r === 'conflict') return; // the job changed meanwhile (cancelled, or offered elsewhere)
          // Either way the driver is taken now: by this offer, or by another it already held.
          this.busyUntil.set(cand.id, now + p.s.offerTimeoutMs);
          busy.add(cand.id);
          if (r === 'ok') res.offered++;
          else retry.push(p);
        }));
        continue;
      }
      res.unassigned++;
      this.d.metrics.batchJobs.inc({ outcome: 'unassigned' });
      // Nobody in reach at all: its window decides; candidates taken by better matches: the next batch.
      if (l.n === 0) ends.push(searchOver(p.s, p.elapsed) ? this.end(p.doc, res) : this.d.maker.wait(p.doc.rec, this.name, p.s));
    }
    await Promise.all(offers);
    return retry;
  }

  /**
   * Jobs picked up in an airport queue zone bypass the solver: oldest first, each is offered to the first
   * eligible driver of its queue not already taken in this batch. Returns the jobs left for the solver:
   * the others, and airport jobs whose queue has no eligible driver (normal dispatch, as greedy does).
   */
  private async pinQueued(pending: Pending[], busy: Set<string>, now: number, res: BatchResult): Promise<Pending[]> {
    const rest: Pending[] = [];
    const airport: Pending[] = [];
    for (const p of pending) (this.d.airport!.isAirport(p.doc) ? airport : rest).push(p);
    airport.sort((a, b) => a.doc.rec.created_ts - b.doc.rec.created_ts);
    for (const p of airport) {
      let left = true;
      for (let k = 0; k < CLAIM_ROUNDS; k++) {
        const cand = await this.d.airport!.first(p.doc, p.s, now, busy);
        if (!cand) break;
        const r = await this.d.maker.offer(p.doc, cand, p.s, this.name);
        this.d.metrics.batchJobs.inc({ outcome: r === 'ok' ? 'offered' : r });
        if (r === 'conflict') {
          left = false; // the job changed meanwhile (cancelled, or offered elsewhere)
          break;
        }
        this.busyUntil.set(cand.id, now + p.s.offerTimeoutMs);
        busy.add(cand.id);
        if (r === 'ok') {
          res.offered++;
          left = false;
          break;
        }
      }
      if (left) rest.push(p);
    }
    return rest;
  }

  /** Drivers this node saw holding an offer (its own, or one that refused a claim), until that offer's expiry at the latest. */
  private busyDrivers(now: number): Set<string> {
    const out = new Set<string>();
    for (const [id, until] of this.busyUntil) {
      if (until <= now) this.busyUntil.delete(id);
      else out.add(id);
    }
    return out;
  }

  /** A job out of attempts or window ends `unfulfilled` (a lost race leaves it to the next batch). */
  private async end(doc: JobDoc, res: BatchResult): Promise<void> {
    if ((await this.d.maker.giveUp(doc)) === 'ok') {
      res.gaveUp++;
      this.d.board.remove(doc.rec.id);
    }
  }
}
