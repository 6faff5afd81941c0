// Redis JobRepo (cluster mode): job documents in hashes, compare-and-set and claims in one Lua script.
import type { Redis } from 'ioredis';
import type { CommitDurability } from '../config/redis-settings.js';
import { redisHealthy } from '../bus/redis-connection.js';
import { ReplicaWait } from '../bus/replica-wait.js';
import type { UnreplicatedListener } from '../bus/replica-wait.js';
import type { ClaimOp, CommitResult, JobDoc, JobRepo } from './job-repo.js';
import { OFFER_CLAIM_GRACE_MS } from './job-repo.js';
import { JOB_COMMIT_LUA } from './lua/job-commit.lua.js';
import { JOB_CREATE_LUA } from './lua/job-create.lua.js';
import { FINAL_STATES } from '../protocol/job-record.js';

type Scripted = Redis & {
  twJobCommit(numKeys: number, ...args: string[]): Promise<string>;
  twJobCreate(key: string, doc: string): Promise<number>;
};

export interface RedisJobRepoOptions {
  /** TTL of a final job's document, ms. */
  finishedTtlMs?: number;
  /** WAIT for replicas after each write (create and commit); replicas 0 (the default): no WAIT. */
  durability?: CommitDurability;
  /** Called for each write that stood with fewer replicas than asked (count it, log it; never throw). */
  onUnreplicated?: UnreplicatedListener;
}

/**
 * Keys (prefix P): `P job:<id>` hash {v, doc}; `P drv:offer:<driver>` (job id, with a TTL);
 * `P drv:active:<driver>` (job id). Every commit is one EVALSHA, so it is atomic for all nodes.
 * All keys of one commit must live on one Redis primary (standalone or Sentinel; not Redis Cluster).
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
  private readonly finishedTtlMs: number;
  private readonly replicas: ReplicaWait;

  constructor(redis: Redis, private readonly prefix: string, opts: RedisJobRepoOptions = {}) {
    redis.defineCommand('twJobCommit', { lua: JOB_COMMIT_LUA });
    redis.defineCommand('twJobCreate', { numberOfKeys: 1, lua: JOB_CREATE_LUA });
    this.r = redis as Scripted;
    this.finishedTtlMs = opts.finishedTtlMs ?? 24 * 3600_000;
    this.replicas = new ReplicaWait(redis, opts.durability ?? { replicas: 0, timeoutMs: 50 }, opts.onUnreplicated);
  }

  private jobKey(id: string): string {
    return `${this.prefix}job:${id}`;
  }

  async create(doc: JobDoc): Promise<void> {
    const created = await this.r.twJobCreate(this.jobKey(doc.rec.id), JSON.stringify({ ...doc, version: 1 }));
    if (created !== 1) throw new Error(`job ${doc.rec.id} exists`);
    await this.replicas.after();
  }

  async get(id: string): Promise<JobDoc | undefined> {
    const [v, doc] = await this.r.hmget(this.jobKey(id), 'v', 'doc');
    if (!v || !doc) return undefined;
    const d = JSON.parse(doc) as JobDoc;
    d.version = Number(v);
    return d;
  }

  async commit(doc: JobDoc, expectedVersion: number, claims: readonly ClaimOp[]): Promise<CommitResult> {
    const keys = [this.jobKey(doc.rec.id)];
    const ops: string[] = [];
    for (const c of claims) {
      keys.push(`${this.prefix}drv:offer:${c.driver}`, `${this.prefix}drv:active:${c.driver}`);
      ops.push(c.op);
    }
    const offerTtl = Math.max(1000, doc.offerExpires - Date.now() + OFFER_CLAIM_GRACE_MS);
    const finalTtl = FINAL_STATES.has(doc.rec.state) ? this.finishedTtlMs : 0;
    const res = await this.r.twJobCommit(
      keys.length, ...keys,
      String(expectedVersion), JSON.stringify({ ...doc, version: expectedVersion + 1 }), doc.rec.id, String(offerTtl), String(finalTtl), ...ops,
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
