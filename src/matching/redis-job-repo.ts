// Redis JobRepo (cluster mode): job documents in hashes, compare-and-set and claims in one Lua script.
import type { Redis } from 'ioredis';
import type { ClaimOp, CommitResult, CreateResult, FinishedRetention, JobDoc, JobListQuery, JobPage, JobRepo } from './job-repo.js';
import { DEFAULT_FINISHED_RETENTION, OFFER_CLAIM_GRACE_MS, listMatch } from './job-repo.js';
import type { CommitDurability } from '../config/redis-settings.js';
import { redisHealthy } from '../bus/redis-connection.js';
import { ReplicaWait } from '../bus/replica-wait.js';
import type { UnreplicatedListener } from '../bus/replica-wait.js';
import { JOB_COMMIT_LUA } from './lua/job-commit.lua.js';
import { JOB_CREATE_LUA } from './lua/job-create.lua.js';
import { FINAL_STATES } from '../protocol/job-record.js';

type Scripted = Redis & {
  twJobCommit(numKeys: number, ...args: string[]): Promise<string>;
  twJobCreate(k1: string, k2: string, k3: string, k4: string, doc: string, id: string, cap: string): Promise<number>;
};

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
 * Keys (prefix P): `P job:<id>` hash {v, doc}; `P drv:offer:<driver>` (job id, with a TTL);
 * `P drv:active:<driver>` (job id); `P jobs:held` zset (every held job by creation counter
 * `P jobs:seq`); `P jobs:done` zset (final jobs by end time, for their retention);
 * `P rider:open:<rider>` set (the rider's live job ids). Every create and commit is one EVALSHA, so it is
 * atomic for all nodes. All keys must live on one Redis primary (standalone or Sentinel; not Redis Cluster).
 *
 * Replication is asynchronous: a write acknowledged by the primary can be lost if the primary dies before
 * a replica has it and a Sentinel promotes that replica. With `durability.replicas` > 0, every successful
 * create and commit is followed by `WAIT replicas timeoutMs` on this connection (WAIT covers every earlier
 * write of the connection), so the caller hears back only once that many replicas hold the write, or the
 * timeout passed. A timeout does not undo the write (it is applied on the primary and is what every node
 * reads): it stands, `onUnreplicated` is called, and for WAIT_BACKOFF_MS later writes skip WAIT (also
 * reported). Give this repo a connection of its own: WAIT blocks the connection it runs on.
 */
export class RedisJobRepo implements JobRepo {
  private readonly r: Scripted;
  private readonly retention: FinishedRetention;
  private readonly replicas: ReplicaWait;

  constructor(redis: Redis, private readonly prefix: string, opts: RedisJobRepoOptions = {}) {
    redis.defineCommand('twJobCommit', { lua: JOB_COMMIT_LUA });
    redis.defineCommand('twJobCreate', { numberOfKeys: 4, lua: JOB_CREATE_LUA });
    this.r = redis as Scripted;
    this.retention = { ...DEFAULT_FINISHED_RETENTION, ...opts.retention };
    this.replicas = new ReplicaWait(redis, opts.durability ?? { replicas: 0, timeoutMs: 50 }, opts.onUnreplicated);
  }

  private riderKey(rider: string): string {
    return `${this.prefix}rider:open:${rider}`;
  }

  private jobKey(id: string): string {
    return `${this.prefix}job:${id}`;
  }

  async create(doc: JobDoc, maxOpenOfRider?: number): Promise<CreateResult> {
    const p = this.prefix;
    const created = await this.r.twJobCreate(
      this.jobKey(doc.rec.id), `${p}jobs:held`, `${p}jobs:seq`, this.riderKey(doc.rec.rider),
      JSON.stringify({ ...doc, version: 1 }), doc.rec.id, String(maxOpenOfRider ?? 0),
    );
    if (created === 0) throw new Error(`job ${doc.rec.id} exists`);
    if (created !== 1) return 'rider_cap';
    await this.replicas.after();
    return 'ok';
  }

  async openJobsOf(rider: string): Promise<number> {
    return this.r.scard(this.riderKey(rider));
  }

  async list(q: JobListQuery): Promise<JobPage> {
    const held = `${this.prefix}jobs:held`;
    const jobs: JobPage['jobs'] = [];
    let max = q.cursor === undefined ? '+inf' : `(${Number(q.cursor)}`;
    let scanned = 0;
    for (;;) {
      const batch = await this.r.zrevrangebyscore(held, max, '-inf', 'WITHSCORES', 'LIMIT', 0, LIST_BATCH);
      if (batch.length === 0) return { jobs, next: null };
      const ids: string[] = [];
      const scores: string[] = [];
      for (let i = 0; i < batch.length; i += 2) ids.push(batch[i]!), scores.push(batch[i + 1]!);
      const docs = await Promise.all(ids.map((id) => this.r.hget(this.jobKey(id), 'doc')));
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
        jobs.push(rec);
        if (jobs.length === q.limit) {
          if (gone.length) await this.r.zrem(held, ...gone);
          return { jobs, next: scores[i]! };
        }
      }
      if (gone.length) await this.r.zrem(held, ...gone);
      max = `(${scores[scores.length - 1]}`;
      if (batch.length < LIST_BATCH * 2) return { jobs, next: null };
      if (scanned >= LIST_SCAN_BUDGET + q.limit) return { jobs, next: scores[scores.length - 1]! };
    }
  }

  async get(id: string): Promise<JobDoc | undefined> {
    const [v, doc] = await this.r.hmget(this.jobKey(id), 'v', 'doc');
    if (!v || !doc) return undefined;
    const d = JSON.parse(doc) as JobDoc;
    d.version = Number(v);
    return d;
  }

  async commit(doc: JobDoc, expectedVersion: number, claims: readonly ClaimOp[]): Promise<CommitResult> {
    const p = this.prefix;
    const keys = [this.jobKey(doc.rec.id), `${p}jobs:held`, `${p}jobs:done`, this.riderKey(doc.rec.rider)];
    const ops: string[] = [];
    for (const c of claims) {
      keys.push(`${this.prefix}drv:offer:${c.driver}`, `${this.prefix}drv:active:${c.driver}`);
      ops.push(c.op);
    }
    const offerTtl = Math.max(1000, doc.offerExpires - Date.now() + OFFER_CLAIM_GRACE_MS);
    const finalTtl = FINAL_STATES.has(doc.rec.state) ? Math.max(1, this.retention.ttlMs) : 0;
    const res = await this.r.twJobCommit(
      keys.length, ...keys,
      String(expectedVersion), JSON.stringify({ ...doc, version: expectedVersion + 1 }), doc.rec.id, String(offerTtl), String(finalTtl),
      String(Date.now()), String(this.retention.maxKept), `${p}job:`, ...ops,
    );
    if (res === 'ok') await this.replicas.after();
    return res as CommitResult;
  }

  async offerOf(driver: string): Promise<string | undefined> {
    return (await this.r.get(`${this.prefix}drv:offer:${driver}`)) ?? undefined;
  }

  async activeOf(driver: string): Promise<string | undefined> {
    return (await this.r.get(`${this.prefix}drv:active:${driver}`)) ?? undefined;
  }

  /** Up when the connection answers PING within a second (see `redisHealthy`). */
  async healthy(): Promise<boolean> {
    return redisHealthy(this.r);
  }

  async close(): Promise<void> {}
}
