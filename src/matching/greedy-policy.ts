// Greedy dispatch policy: offer the job to its best candidate by ETA at once, one offer at a time; wait in the search window when there is none.
import type { DispatchSettings } from '../config/dispatch-settings.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../observability/logger.js';
import type { JobRecord } from '../protocol/job-record.js';
import type { JobDoc } from './job-repo.js';
import type { JobLedger } from './job-ledger.js';
import { MAX_CAS_RETRIES } from './job-ledger.js';
import type { Candidate, CandidateFinder } from './dispatch.js';
import type { QueueCandidates } from './queue-candidates.js';
import type { DispatchPolicy } from './dispatch-policy.js';
import type { OfferMaker } from './offer-maker.js';
import { searchOver, searchRadiusM, searchStart } from './search-window.js';

export interface GreedyDeps {
  ledger: JobLedger;
  finder: CandidateFinder;
  maker: OfferMaker;
  clock: Clock;
  logger: Logger;
  /** The settings of a job (its city's, with its policy's parameters). */
  settingsOf: (rec: JobRecord) => DispatchSettings;
  /** Called when a job could not be moved on after repeated conflicts (the caller arms the watchdog). */
  stuck: (id: string, city: string) => Promise<void>;
  /** Airport queues: a job picked up in one goes to its first eligible queued driver (absent: none). */
  airport?: QueueCandidates;
}

export class GreedyPolicy implements DispatchPolicy {
  readonly name = 'greedy' as const;

  constructor(private readonly d: GreedyDeps) {}

  async dispatch(first: JobDoc, firstSettings: DispatchSettings): Promise<void> {
    const id = first.rec.id;
    const skip = new Set<string>();
    let doc: JobDoc | undefined = first;
    let s = firstSettings;
    for (let i = 0; i < MAX_CAS_RETRIES * 4; i++) {
      if (i > 0) {
        doc = await this.d.ledger.get(id);
        if (!doc || doc.rec.state !== 'dispatching' || doc.offer) return;
        s = this.d.settingsOf(doc.rec);
      }
      const now = this.d.clock.now();
      const elapsed = now - searchStart(doc!.rec);
      const best = doc!.attempts < s.maxAttempts ? await this.candidate(doc!, s, now, skip, elapsed) : null;
      if (best) {
        const r = await this.d.maker.offer(doc!, best, s, this.name);
        if (r === 'ok') return;
        if (r === 'claim_failed') skip.add(best.id); // claimed by another job meanwhile
        continue;
      }
      if (doc!.attempts >= s.maxAttempts || searchOver(s, elapsed)) {
        if ((await this.d.maker.giveUp(doc!)) === 'ok') return; // unfulfilled, recorded by the ledger
        continue;
      }
      // Nobody yet: wait in the search window; a driver event or the search timer runs this again.
      await this.d.maker.wait(doc!.rec, this.name, s);
      return;
    }
    this.d.logger.warn({ job: id }, 'dispatch gave up after repeated conflicts; the dispatch watchdog retries');
    await this.d.stuck(id, first.rec.city);
  }

  /** The airport queue's first eligible driver for a pickup in one; otherwise (or with none eligible) the best ETA. */
  private async candidate(doc: JobDoc, s: DispatchSettings, now: number, skip: ReadonlySet<string>, elapsed: number): Promise<Candidate | null> {
    const queued = this.d.airport ? await this.d.airport.first(doc, s, now, skip) : undefined;
    return queued ?? this.d.finder.best(doc, s, now, skip, searchRadiusM(s, elapsed));
  }
}
