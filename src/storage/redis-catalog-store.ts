// Cluster catalog store: cities and zones in Redis (one Lua compare-and-set per change), with a bounded history list.
import type { Cluster, Redis } from 'ioredis';
import { RedisKeys } from './redis-keys.js';
import { CATALOG_HISTORY_MAX } from './catalog-store.js';
import type { CatalogChange, CatalogEntry, CatalogKind, CatalogSnapshot, CatalogStore } from './catalog-store.js';
import { CATALOG_WRITE_LUA } from './lua/catalog-write.lua.js';

type WriteCommand = (k1: string, k2: string, k3: string, ...args: Array<string | number>) => Promise<Array<number | string>>;

/**
 * Keys under `prefix`, all tagged `{catalog}` (one slot: the write script touches the three): `catalog:version`
 * (counter), `catalog:entries` (hash kind:key → entry JSON), `catalog:history` (list of change JSON, oldest
 * first, at most CATALOG_HISTORY_MAX). Kinds and keys
 * are checked names (A-Z a-z 0-9 _ -) before they reach the script, which builds JSON around them.
 */
export class RedisCatalogStore implements CatalogStore {
  private readonly kVersion: string;
  private readonly kEntries: string;
  private readonly kHistory: string;
  private readonly cmd: WriteCommand;

  /** `redis` is a connection of the caller's; `close()` does not end it. */
  constructor(private readonly redis: Redis | Cluster, prefix: string, private readonly historyMax = CATALOG_HISTORY_MAX) {
    const keys = new RedisKeys(prefix);
    this.kVersion = keys.catalog('version');
    this.kEntries = keys.catalog('entries');
    this.kHistory = keys.catalog('history');
    redis.defineCommand('twCatalogWrite', { numberOfKeys: 3, lua: CATALOG_WRITE_LUA });
    this.cmd = (redis as unknown as { twCatalogWrite: WriteCommand }).twCatalogWrite.bind(redis);
  }

  async version(): Promise<number> {
    return Number((await this.redis.get(this.kVersion)) ?? 0);
  }

  async load(): Promise<CatalogSnapshot> {
    // One MULTI so the entries and the version belong together.
    const r = await this.redis.multi().get(this.kVersion).hvals(this.kEntries).exec();
    const version = Number((r?.[0]?.[1] as string | null) ?? 0);
    const entries = ((r?.[1]?.[1] as string[] | undefined) ?? []).map((s) => JSON.parse(s) as CatalogEntry);
    return { version, entries };
  }

  async write(kind: CatalogKind, key: string, doc: unknown | null, expect: number, ts: number): Promise<CatalogChange | null> {
    const r = await this.cmd(this.kVersion, this.kEntries, this.kHistory, expect, ts, this.historyMax, kind, key, doc === null ? '' : JSON.stringify(doc));
    if (Number(r[0]) !== 1) return null;
    return JSON.parse(String(r[1])) as CatalogChange;
  }

  async seed(entries: ReadonlyArray<{ kind: CatalogKind; key: string; doc: unknown }>, ts: number): Promise<boolean> {
    if (entries.length === 0) return false;
    const args = entries.flatMap((e) => [e.kind, e.key, JSON.stringify(e.doc)]);
    const r = await this.cmd(this.kVersion, this.kEntries, this.kHistory, 0, ts, this.historyMax, ...args);
    return Number(r[0]) === 1;
  }

  async changesSince(version: number, limit: number): Promise<CatalogChange[] | null> {
    const newest = await this.version();
    if (newest <= version) return [];
    // The list is in version order, so version+1 sits (newest - version) from its end; a little slack
    // covers writes landing between the two reads (they only push it further from the end).
    const back = Math.min(newest - version + 16, this.historyMax);
    const list = (await this.redis.lrange(this.kHistory, -back, -1)).map((s) => JSON.parse(s) as CatalogChange);
    const out = list.filter((c) => c.version > version);
    if (out.length === 0 || out[0]!.version !== version + 1) return null;
    return out.slice(0, limit);
  }

  async history(limit: number): Promise<CatalogChange[]> {
    const list = await this.redis.lrange(this.kHistory, -limit, -1);
    return list.reverse().map((s) => JSON.parse(s) as CatalogChange);
  }

  async close(): Promise<void> {
    /* the connection is the caller's */
  }
}
