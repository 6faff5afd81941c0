// Redis JobRepo (cluster mode): job documents in hashes, compare-and-set and claims in one Lua script.
import type { ClaimOp, CommitResult, CreateResult, FinishedRetention, JobDoc, JobListQuery, JobPage, JobRepo } from './job-repo.js';
import { DEFAULT_FINISHED_RETENTION, OFFER_CLAIM_GRACE_MS, listMatch } from './job-repo.js';
import type { CommitDurability } from '../config/redis-settings.js';
import { redisHealthy } from '../bus/redis-connection.js';
import type { RedisClient } from '../bus/redis-connection.js';
import { RedisKeys } from '../storage/redis-keys.js';
import { ReplicaWait } from '../bus/replica-wait.js';
import type { UnreplicatedListener } from '../bus/replica-wait.js';
import { JOB_COMMIT_LUA } from './lua/job-commit.lua.js';
import { JOB_CREATE_LUA } from './lua/job-create.lua.js';
import { FINAL_STATES } from '../protocol/job-record.js';

type Scripted = RedisClient & {
  twJobCommit(numKeys: number, ...args: string[]): Promise<string[]>;
  twJobCreate(k1: string, k2: string, k3: string, k4: string, doc: string, id: string, cap: string, createdTs: string): Promise<number>;
};

/** Life of the driver → claim-city pointer, ms: longer than any offer and any trip (refreshed by each offer). */
const DRIVER_CITY_TTL_MS = 30 * 24 * 3600_000;

/** Most held-set entries one `list` call reads, beyond the page itself (bounds the work of one call). */
const LIST_SCAN_BUDGET = 5000;
const LIST_BATCH = 200;

export interface RedisJobRepoOptions {
  /** How long and how many final jobs stay in Redis after they end (storage keeps them all). */
  retention?: Partial<FinishedRetention>;
  /** WAIT for replicas after each write (create and commit); replicas 0 (the default): no WAIT. */
  durability?: CommitDurability;
  /** Called for each write that stood with fewer replicas than asked (count it, log it; never throw). */
  onUnreplicated?: UnreplicatedListener;
}

/**
 * Keys (`storage/redis-keys.ts`; every key of one city carries the hash tag `{city}`): a job hash {v, doc}
 * (the job id names the city); per city the held set (every held job by creation counter), finished set
 * (final jobs by end time, for their retention), the creation counter, each rider's set of live job ids,
 * and each driver's claims: offer (job id, with a TTL) and active (job id). Every create and commit is
 * one EVALSHA whose keys are all of the job's city, so it is atomic for all nodes, on one Redis, through
 * Sentinel and on a Redis Cluster (the city's slot).
 *
 * Driver claims live in the city of the job they claim. Looking them up by driver (`offerOf`, `activeOf`)
 * reads the untagged pointer `drv:city:<driver>` (the city of the driver's newest offer, written beside
 * the claiming commit, in parallel: no added round trip) and then the claim in that city. Guarantees:
 * within a city, a driver holds at most one offer or active job, atomically (the claim preconditions);
 * across cities the dispatcher offers only drivers available in the job's city's fleet, and a driver is in
 * one city's fleet at a time, so a second claim in another city needs the driver to cross a city boundary
 * between two offers made within the same instant; the lookups follow the newest offer.
 *
 * Replication is asynchronous: a write acknowledged by the primary can be lost if the primary dies before
 * a replica has it and a Sentinel promotes that replica. With `durability.replicas` > 0, every successful
 * create and commit is followed by `WAIT replicas timeoutMs` on this connection (on a Cluster: on the
 * connection of the city's primary; WAIT covers every earlier write of the connection), so the caller hears
 * back only once that many replicas hold the write, or the timeout passed. A timeout does not undo the
 * write (it is applied on the primary and is what every node reads): it stands, `onUnreplicated` is
 * called, and for WAIT_BACKOFF_MS later writes skip WAIT (also reported). Give this repo a connection of
 * its own: WAIT blocks the connection it runs on.
 */
export class RedisJobRepo implements JobRepo {
  private readonly r: Scripted;
  private readonly retention: FinishedRetention;
  private readonly replicas: ReplicaWait;

  private readonly keys: RedisKeys;
  /** Cities this repo has written to the `jobs:cities` set (written once per city and process). */
  private readonly known = new Set<string>();

  constructor(redis: RedisClient, prefix: string, opts: RedisJobRepoOptions = {}) {
    redis.defineCommand('twJobCommit', { lua: JOB_COMMIT_LUA });
    redis.defineCommand('twJobCreate', { numberOfKeys: 4, lua: JOB_CREATE_LUA });
    this.r = redis as Scripted;
    this.keys = new RedisKeys(prefix);
    this.retention = { ...DEFAULT_FINISHED_RETENTION, ...opts.retention };
    this.replicas = new ReplicaWait(redis, opts.durability ?? { replicas: 0, timeoutMs: 50 }, opts.onUnreplicated);
  }

  async create(doc: JobDoc, maxOpenOfRider?: number): Promise<CreateResult> {
    const k = this.keys;
    const { id, city, rider } = doc.rec;
    const job = k.job(id);
    // The set of cities with jobs (for a list of every city): once per city, beside the create.
    const seen = this.known.has(city) ? null : this.r.sadd(k.jobCities(), city).then(() => this.known.add(city));
    const [created] = await Promise.all([
      this.r.twJobCreate(
        job, k.held(city), k.seq(city), k.riderOpen(city, rider),
        JSON.stringify({ ...doc, version: 1 }), id, String(maxOpenOfRider ?? 0), String(doc.rec.created_ts),
      ),
      seen,
    ]);
    if (created === 0) throw new Error(`job ${id} exists`);
    if (created !== 1) return 'rider_cap';
    await this.replicas.after(job);
    return 'ok';
  }

  async openJobsOf(rider: string, city: string): Promise<number> {
    return this.r.scard(this.keys.riderOpen(city, rider));
  }

  async list(q: JobListQuery): Promise<JobPage> {
    if (q.city !== undefined) {
      const { jobs, next } = await this.listCity(q.city, q);
      return { jobs, next };
    }
    // Every city: each city's newest page, merged by score (creation time, comparable across cities).
    const cities = await this.r.smembers(this.keys.jobCities());
    const pages = await Promise.all(cities.map((city) => this.listCity(city, q)));
    const all: Array<{ rec: JobPage['jobs'][number]; score: number }> = [];
    // A city that stopped early (more to read) read everything down to its `next`: above the highest such
    // bound every city's jobs are all read, so only those are complete enough to return.
    let bound = -Infinity;
    for (const p of pages) {
      for (const x of p.scored) all.push(x);
      if (p.next !== null) bound = Math.max(bound, Number(p.next));
    }
    all.sort((a, b) => b.score - a.score);
    const ready = all.filter((x) => x.score >= bound);
    let kept = ready.slice(0, q.limit);
    let next = kept.length === q.limit ? String(kept[kept.length - 1]!.score) : bound > -Infinity ? String(bound) : null;
    // Two cities' jobs can share a score (same ms, same counter): never cut between them, since the cursor
    // is exclusive. Leave the tied ones to the next page (cursor just above their score; scores are integers).
    const cut = ready[q.limit];
    if (cut !== undefined && cut.score === kept[kept.length - 1]!.score) {
      const before = kept.filter((x) => x.score > cut.score);
      if (before.length > 0) {
        kept = before;
        next = String(cut.score + 1);
      } else {
        // The whole page is one tie (at most one job per city): return all of it, a page over `limit`.
        kept = ready.filter((x) => x.score === cut.score);
        next = String(cut.score);
      }
    }
    return { jobs: kept.map((x) => x.rec), next };
  }

  /** One city's page, with each job's score (its place in the creation order). */
  private async listCity(city: string, q: JobListQuery): Promise<JobPage & { scored: Array<{ rec: JobPage['jobs'][number]; score: number }> }> {
    const held = this.keys.held(city);
    const scored: Array<{ rec: JobPage['jobs'][number]; score: number }> = [];
    const page = (next: string | null): JobPage & { scored: typeof scored } => ({ jobs: scored.map((x) => x.rec), next, scored });
    let max = q.cursor === undefined ? '+inf' : `(${Number(q.cursor)}`;
    let scanned = 0;
    for (;;) {
      const batch = await this.r.zrevrangebyscore(held, max, '-inf', 'WITHSCORES', 'LIMIT', 0, LIST_BATCH);
      if (batch.length === 0) return page(null);
      const ids: string[] = [];
      const scores: string[] = [];
      for (let i = 0; i < batch.length; i += 2) ids.push(batch[i]!), scores.push(batch[i + 1]!);
      const docs = await Promise.all(ids.map((id) => this.r.hget(this.keys.job(id), 'doc')));
      const gone: string[] = [];
      for (let i = 0; i < ids.length; i++) {
        scanned++;
        const raw = docs[i];
        if (!raw) {
          gone.push(ids[i]!); // its hash expired: forget it here too
          continue;
        }
        const rec = (JSON.parse(raw) as JobDoc).rec;
        if (!listMatch(rec, q, FINAL_STATES.has(rec.state))) continue;
        scored.push({ rec, score: Number(scores[i]) });
        if (scored.length === q.limit) {
          if (gone.length) await this.r.zrem(held, ...gone);
          return page(scores[i]!);
        }
      }
      if (gone.length) await this.r.zrem(held, ...gone);
      max = `(${scores[scores.length - 1]}`;
      if (batch.length < LIST_BATCH * 2) return page(null);
      if (scanned >= LIST_SCAN_BUDGET + q.limit) return page(scores[scores.length - 1]!);
    }
  }

  async get(id: string): Promise<JobDoc | undefined> {
    const [v, doc] = await this.r.hmget(this.keys.job(id), 'v', 'doc');
    if (!v || !doc) return undefined;
    const d = JSON.parse(doc) as JobDoc;
    d.version = Number(v);
    return d;
  }

  async commit(doc: JobDoc, expectedVersion: number, claims: readonly ClaimOp[]): Promise<CommitResult> {
    const k = this.keys;
    const { id, city, rider } = doc.rec;
    const job = k.job(id);
    const keys = [job, k.held(city), k.done(city), k.riderOpen(city, rider)];
    const ops: string[] = [];
    const pointers: Array<Promise<unknown>> = [];
    for (const c of claims) {
      keys.push(k.driverOffer(city, c.driver), k.driverActive(city, c.driver));
      ops.push(c.op);
      // Where lookups by driver look: set beside the claim (in parallel), before anyone hears of the offer.
      if (c.op === 'claimOffer') pointers.push(this.r.set(k.driverCity(c.driver), city, 'PX', DRIVER_CITY_TTL_MS));
    }
    const offerTtl = Math.max(1000, doc.offerExpires - Date.now() + OFFER_CLAIM_GRACE_MS);
    const finalTtl = FINAL_STATES.has(doc.rec.state) ? Math.max(1, this.retention.ttlMs) : 0;
    const [res] = await Promise.all([
      this.r.twJobCommit(
        keys.length, ...keys,
        String(expectedVersion), JSON.stringify({ ...doc, version: expectedVersion + 1 }), id, String(offerTtl), String(finalTtl),
        String(Date.now()), String(this.retention.maxKept), ...ops,
      ),
      ...pointers,
    ]);
    const [status, ...dropped] = res as string[];
    if (status !== 'ok') return status as CommitResult;
    // Final jobs the count bound dropped from the city's sets: their hashes go too (same slot, one DEL).
    if (dropped.length) await this.r.del(...dropped.map((x) => k.job(x)));
    await this.replicas.after(job);
    return 'ok';
  }

  async offerOf(driver: string): Promise<string | undefined> {
    const city = await this.r.get(this.keys.driverCity(driver));
    return city === null ? undefined : (await this.r.get(this.keys.driverOffer(city, driver))) ?? undefined;
  }

  async activeOf(driver: string): Promise<string | undefined> {
    const city = await this.r.get(this.keys.driverCity(driver));
    return city === null ? undefined : (await this.r.get(this.keys.driverActive(city, driver))) ?? undefined;
  }

  /** Up when the connection answers PING within a second (see `redisHealthy`). */
  async healthy(): Promise<boolean> {
    return redisHealthy(this.r);
  }

  async close(): Promise<void> {}
}
