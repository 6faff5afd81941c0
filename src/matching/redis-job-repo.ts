// Redis JobRepo (cluster mode): job documents in hashes, compare-and-set and claims in one Lua script.
import type { Redis } from 'ioredis';
import type { ClaimOp, CommitResult, JobDoc, JobRepo } from './job-repo.js';
import { OFFER_CLAIM_GRACE_MS } from './job-repo.js';
import { JOB_COMMIT_LUA } from './lua/job-commit.lua.js';
import { JOB_CREATE_LUA } from './lua/job-create.lua.js';
import { FINAL_STATES } from '../protocol/job-record.js';

type Scripted = Redis & {
  twJobCommit(numKeys: number, ...args: string[]): Promise<string>;
  twJobCreate(key: string, doc: string): Promise<number>;
};

/**
 * Keys (prefix P): `P job:<id>` hash {v, doc}; `P drv:offer:<driver>` (job id, with a TTL);
 * `P drv:active:<driver>` (job id). Every commit is one EVALSHA, so it is atomic for all nodes.
 * All keys of one commit must live on one Redis primary (standalone or Sentinel; not Redis Cluster).
 */
export class RedisJobRepo implements JobRepo {
  private readonly r: Scripted;
  constructor(redis: Redis, private readonly prefix: string, private readonly finishedTtlMs = 24 * 3600_000) {
    redis.defineCommand('twJobCommit', { lua: JOB_COMMIT_LUA });
    redis.defineCommand('twJobCreate', { numberOfKeys: 1, lua: JOB_CREATE_LUA });
    this.r = redis as Scripted;
  }

  private jobKey(id: string): string {
    return `${this.prefix}job:${id}`;
  }

  async create(doc: JobDoc): Promise<void> {
    const created = await this.r.twJobCreate(this.jobKey(doc.rec.id), JSON.stringify({ ...doc, version: 1 }));
    if (created !== 1) throw new Error(`job ${doc.rec.id} exists`);
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
    return res as CommitResult;
  }

  async offerOf(driver: string): Promise<string | undefined> {
    return (await this.r.get(`${this.prefix}drv:offer:${driver}`)) ?? undefined;
  }

  async activeOf(driver: string): Promise<string | undefined> {
    return (await this.r.get(`${this.prefix}drv:active:${driver}`)) ?? undefined;
  }

  async healthy(): Promise<boolean> {
    try {
      return (await this.r.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {}
}
