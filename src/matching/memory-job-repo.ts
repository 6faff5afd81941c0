// In-memory JobRepo (embedded mode): the same compare-and-set and claim rules as the Redis adapter, optionally written through to disk.
import type { StateTable } from '../storage/live-state.js';
import type { ClaimOp, CommitResult, CreateResult, FinishedRetention, JobDoc, JobListQuery, JobPage, JobRepo } from './job-repo.js';
import { DEFAULT_FINISHED_RETENTION, OFFER_CLAIM_GRACE_MS, listMatch } from './job-repo.js';
import { FINAL_STATES } from '../protocol/job-record.js';
import { systemClock } from '../util/clock.js';
import type { Clock } from '../util/clock.js';
import { cloneData } from '../util/clone-data.js';

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
 *
 * Memory is bounded by live jobs: final jobs are kept only within `retention` (time and count; they live
 * in storage), and their table rows go with them. Start-up walks the table lazily and loads live jobs
 * plus at most `retention.maxKept` final ones still within the TTL (any of them, not necessarily the
 * newest); every other final row is removed, so a data dir holding many finished jobs (older versions
 * kept them a day) never has to fit in memory.
 */
export class MemoryJobRepo implements JobRepo {
  private readonly docs = new Map<string, JobDoc>();
  private readonly offers = new Map<string, { job: string; until: number }>();
  private readonly active = new Map<string, string>();
  /** Final jobs held, with when they ended (ms); insertion order is the eviction order. */
  private readonly finishedAt = new Map<string, number>();
  /** Creation order of held jobs (the list order): a counter, so equal `created_ts` still sort. */
  private readonly order = new Map<string, number>();
  private nextOrder = 1;
  /** Live job ids of each rider in each city (for the open-jobs cap), by `riderCity(city, rider)`. */
  private readonly riderOpen = new Map<string, Set<string>>();
  private readonly retention: FinishedRetention;
  private sweeper: NodeJS.Timeout;

  /**
   * @param retention how long and how many final jobs stay readable here (default: DEFAULT_FINISHED_RETENTION)
   * @param clock time source of offer claims and retention: the system clock, or the simulator's virtual one
   * (offer deadlines are written in the dispatcher's time, so both must read the same clock)
   */
  constructor(retention: Partial<FinishedRetention> = {}, private readonly tables: JobRepoTables | null = null, private readonly clock: Clock = systemClock) {
    this.retention = { ...DEFAULT_FINISHED_RETENTION, ...retention };
    if (tables) this.load(tables, this.clock.now());
    this.sweeper = setInterval(() => this.sweep(this.clock.now()), Math.min(60_000, this.retention.ttlMs));
    this.sweeper.unref();
  }

  /** Live jobs held (not final), for start-up checks. */
  get liveCount(): number {
    return this.docs.size - this.finishedAt.size;
  }

  /** Every job held, live and final (for tests of the memory bound). */
  get heldCount(): number {
    return this.docs.size;
  }

  async create(doc: JobDoc, maxOpenOfRider?: number): Promise<CreateResult> {
    if (this.docs.has(doc.rec.id)) throw new Error(`job ${doc.rec.id} exists`);
    if (maxOpenOfRider !== undefined && (this.riderOpen.get(riderCity(doc.rec.city, doc.rec.rider))?.size ?? 0) >= maxOpenOfRider) return 'rider_cap';
    const stored = cloneData({ ...doc, version: 1 });
    this.hold(stored);
    this.tables?.docs.put(doc.rec.id, stored);
    return 'ok';
  }

  async openJobsOf(rider: string, city: string): Promise<number> {
    return this.riderOpen.get(riderCity(city, rider))?.size ?? 0;
  }

  async list(q: JobListQuery): Promise<JobPage> {
    const before = q.cursor === undefined ? Infinity : Number(q.cursor);
    const hits: Array<[number, JobDoc]> = [];
    for (const [id, d] of this.docs) {
      const o = this.order.get(id)!;
      if (o < before && listMatch(d.rec, q, this.finishedAt.has(id))) hits.push([o, d]);
    }
    hits.sort((a, b) => b[0] - a[0]);
    const page = hits.slice(0, q.limit);
    const next = hits.length > q.limit ? String(page[page.length - 1]![0]) : null;
    return { jobs: page.map(([, d]) => cloneData(d.rec)), next };
  }

  async get(id: string): Promise<JobDoc | undefined> {
    const d = this.docs.get(id);
    return d ? cloneData(d) : undefined;
  }

  async commit(doc: JobDoc, expectedVersion: number, claims: readonly ClaimOp[]): Promise<CommitResult> {
    const id = doc.rec.id;
    const cur = this.docs.get(id);
    if (!cur || cur.version !== expectedVersion) return 'conflict';
    const now = this.clock.now();
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
    const stored = cloneData({ ...doc, version: expectedVersion + 1 });
    this.docs.set(id, stored);
    this.tables?.docs.put(id, stored);
    if (FINAL_STATES.has(doc.rec.state)) this.finished(id, riderCity(cur.rec.city, cur.rec.rider), now);
    return 'ok';
  }

  async offerOf(driver: string): Promise<string | undefined> {
    return this.offerJob(driver, this.clock.now());
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

  /** Take a stored doc into the maps (create, start-up). */
  private hold(d: JobDoc): void {
    const id = d.rec.id;
    this.docs.set(id, d);
    this.order.set(id, this.nextOrder++);
    if (FINAL_STATES.has(d.rec.state)) return;
    const who = riderCity(d.rec.city, d.rec.rider);
    let open = this.riderOpen.get(who);
    if (!open) this.riderOpen.set(who, (open = new Set()));
    open.add(id);
  }

  /** Job `id` of `who` (`riderCity`) became final at `now`: no longer open; kept within the retention bound. */
  private finished(id: string, who: string, now: number): void {
    const open = this.riderOpen.get(who);
    if (open?.delete(id) && open.size === 0) this.riderOpen.delete(who);
    this.finishedAt.delete(id); // re-inserted last: eviction order is finish order
    this.finishedAt.set(id, now);
    while (this.finishedAt.size > this.retention.maxKept) this.drop(this.finishedAt.keys().next().value!);
    // A final commit also drops the oldest-finished jobs past the TTL, as the Redis adapter's commit does,
    // so retention holds between the timer's sweeps (stops at the first young one: bounded work).
    for (const [old, at] of this.finishedAt) {
      if (now - at < this.retention.ttlMs) break;
      this.drop(old);
    }
  }

  /** Forget a final job here and in the table (storage keeps it). */
  private drop(id: string): void {
    this.docs.delete(id);
    this.order.delete(id);
    this.finishedAt.delete(id);
    this.tables?.docs.remove(id);
  }

  /**
   * Start-up: live jobs in creation time order, final ones within the retention bound; final rows beyond
   * it are removed as the table is walked (never all held at once).
   */
  private load(tables: JobRepoTables, now: number): void {
    const live: JobDoc[] = [];
    for (const [id, d] of tables.docs.entries()) {
      if (!FINAL_STATES.has(d.rec.state)) live.push(d);
      else if (now - d.rec.updated_ts < this.retention.ttlMs && this.finishedAt.size < this.retention.maxKept) {
        this.hold(d);
        this.finishedAt.set(id, d.rec.updated_ts);
      } else tables.docs.remove(id);
    }
    live.sort((a, b) => a.rec.created_ts - b.rec.created_ts);
    for (const d of live) this.hold(d);
    for (const [driver, o] of tables.offers.entries()) this.offers.set(driver, o);
    for (const [driver, job] of tables.active.entries()) this.active.set(driver, job);
  }

  private sweep(now: number): void {
    // Not stopped at the first young entry: jobs loaded at start-up are not in finish order.
    for (const [id, at] of this.finishedAt) if (now - at >= this.retention.ttlMs) this.drop(id);
  }
}

/** Key of a rider's open jobs in a city (city names hold no NUL). */
function riderCity(city: string, rider: string): string {
  return `${city}\u0000${rider}`;
}
