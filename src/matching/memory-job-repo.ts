// In-memory JobRepo (embedded mode): the same compare-and-set and claim rules as the Redis adapter.
import type { ClaimOp, CommitResult, JobDoc, JobRepo } from './job-repo.js';
import { OFFER_CLAIM_GRACE_MS } from './job-repo.js';

const FINAL = new Set(['completed', 'cancelled', 'unfulfilled']);

export class MemoryJobRepo implements JobRepo {
  private readonly docs = new Map<string, JobDoc>();
  private readonly offers = new Map<string, { job: string; until: number }>();
  private readonly active = new Map<string, string>();
  private readonly finishedAt = new Map<string, number>();
  private sweeper: NodeJS.Timeout;

  /** @param finishedTtlMs how long final jobs stay readable here, ms */
  constructor(private readonly finishedTtlMs = 24 * 3600_000) {
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.min(60_000, finishedTtlMs));
    this.sweeper.unref();
  }

  async create(doc: JobDoc): Promise<void> {
    if (this.docs.has(doc.rec.id)) throw new Error(`job ${doc.rec.id} exists`);
    this.docs.set(doc.rec.id, structuredClone({ ...doc, version: 1 }));
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
          this.offers.set(c.driver, { job: id, until: doc.offerExpires + OFFER_CLAIM_GRACE_MS });
          break;
        case 'releaseOffer':
          if (this.offerJob(c.driver, now) === id) this.offers.delete(c.driver);
          break;
        case 'promote':
          this.offers.delete(c.driver);
          this.active.set(c.driver, id);
          break;
        case 'releaseActive':
          if (this.active.get(c.driver) === id) this.active.delete(c.driver);
          break;
      }
    }
    this.docs.set(id, structuredClone({ ...doc, version: expectedVersion + 1 }));
    if (FINAL.has(doc.rec.state)) this.finishedAt.set(id, now);
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
      this.offers.delete(driver);
      return undefined;
    }
    return o.job;
  }

  private sweep(now: number): void {
    for (const [id, at] of this.finishedAt) {
      if (now - at >= this.finishedTtlMs) {
        this.docs.delete(id);
        this.finishedAt.delete(id);
      }
    }
  }
}
