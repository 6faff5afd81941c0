// In-memory JobRepo (embedded mode): the same compare-and-set and claim rules as the Redis adapter, optionally written through to disk.
import type { StateTable } from '../storage/live-state.js';
import type { ClaimOp, CommitResult, JobDoc, JobRepo } from './job-repo.js';
import { OFFER_CLAIM_GRACE_MS } from './job-repo.js';
import { FINAL_STATES } from '../protocol/job-record.js';

/** Durable copies of the repository's maps (embedded mode: `LmdbState` tables in the data dir). */
export interface JobRepoTables {
  docs: StateTable<JobDoc>;
  offers: StateTable<{ job: string; until: number }>;
  active: StateTable<string>;
}

/**
 * Without `tables` the state lives and dies with the process. With them every change is written through
 * (a commit's document and claim changes in one LMDB transaction) and a new instance starts from what is
 * stored, so live jobs, offers and active claims survive a restart of the embedded server.
 */
export class MemoryJobRepo implements JobRepo {
  private readonly docs = new Map<string, JobDoc>();
  private readonly offers = new Map<string, { job: string; until: number }>();
  private readonly active = new Map<string, string>();
  private readonly finishedAt = new Map<string, number>();
  private sweeper: NodeJS.Timeout;

  /** @param finishedTtlMs how long final jobs stay readable here, ms */
  constructor(private readonly finishedTtlMs = 24 * 3600_000, private readonly tables: JobRepoTables | null = null) {
    if (tables) {
      for (const [id, d] of tables.docs.entries()) {
        this.docs.set(id, d);
        if (FINAL_STATES.has(d.rec.state)) this.finishedAt.set(id, d.rec.updated_ts);
      }
      for (const [driver, o] of tables.offers.entries()) this.offers.set(driver, o);
      for (const [driver, job] of tables.active.entries()) this.active.set(driver, job);
    }
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.min(60_000, finishedTtlMs));
    this.sweeper.unref();
  }

  /** Live jobs held (not final), for start-up checks. */
  get liveCount(): number {
    return this.docs.size - this.finishedAt.size;
  }

  async create(doc: JobDoc): Promise<void> {
    if (this.docs.has(doc.rec.id)) throw new Error(`job ${doc.rec.id} exists`);
    const stored = structuredClone({ ...doc, version: 1 });
    this.docs.set(doc.rec.id, stored);
    this.tables?.docs.put(doc.rec.id, stored);
  }

  async get(id: string): Promise<JobDoc | undefined> {
    const d = this.docs.get(id);
    return d ? structuredClone(d) : undefined;
  }

  async commit(doc: JobDoc, expectedVersion: number, claims: readonly ClaimOp[]): Promise<CommitResult> {
    const id = doc.rec.id;
    const cur = this.docs.get(id);
    if (!cur || cur.version !== expectedVersion) return 'conflict';
    const now = Date.now();
    for (const c of claims) {
      if (c.op === 'claimOffer' && (this.offerJob(c.driver, now) !== undefined || this.active.has(c.driver))) return 'claim_failed';
      if (c.op === 'promote' && (this.offerJob(c.driver, now) !== id || this.active.has(c.driver))) return 'claim_failed';
    }
    for (const c of claims) {
      switch (c.op) {
        case 'claimOffer':
          this.setOffer(c.driver, { job: id, until: doc.offerExpires + OFFER_CLAIM_GRACE_MS });
          break;
        case 'releaseOffer':
          if (this.offerJob(c.driver, now) === id) this.setOffer(c.driver, null);
          break;
        case 'promote':
          this.setOffer(c.driver, null);
          this.setActive(c.driver, id);
          break;
        case 'releaseActive':
          if (this.active.get(c.driver) === id) this.setActive(c.driver, null);
          break;
      }
    }
    const stored = structuredClone({ ...doc, version: expectedVersion + 1 });
    this.docs.set(id, stored);
    this.tables?.docs.put(id, stored);
    if (FINAL_STATES.has(doc.rec.state)) this.finishedAt.set(id, now);
    return 'ok';
  }

  async offerOf(driver: string): Promise<string | undefined> {
    return this.offerJob(driver, Date.now());
  }

  async activeOf(driver: string): Promise<string | undefined> {
    return this.active.get(driver);
  }

  async healthy(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private offerJob(driver: string, now: number): string | undefined {
    const o = this.offers.get(driver);
    if (!o) return undefined;
    if (o.until <= now) {
      this.setOffer(driver, null);
      return undefined;
    }
    return o.job;
  }

  private setOffer(driver: string, o: { job: string; until: number } | null): void {
    if (o) this.offers.set(driver, o);
    else if (!this.offers.delete(driver)) return;
    if (o) this.tables?.offers.put(driver, o);
    else this.tables?.offers.remove(driver);
  }

  private setActive(driver: string, job: string | null): void {
    if (job !== null) this.active.set(driver, job);
    else if (!this.active.delete(driver)) return;
    if (job !== null) this.tables?.active.put(driver, job);
    else this.tables?.active.remove(driver);
  }

  private sweep(now: number): void {
    for (const [id, at] of this.finishedAt) {
      if (now - at >= this.finishedTtlMs) {
        this.docs.delete(id);
        this.finishedAt.delete(id);
        this.tables?.docs.remove(id);
      }
    }
  }
}
