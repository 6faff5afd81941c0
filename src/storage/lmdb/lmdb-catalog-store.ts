// Embedded catalog store: cities and zones with their versioned history in an LMDB environment of the data dir.
import fs from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import { CATALOG_HISTORY_MAX, entryKey } from '../catalog-store.js';
import type { CatalogChange, CatalogEntry, CatalogKind, CatalogSnapshot, CatalogStore } from '../catalog-store.js';

const VERSION_KEY = 'version';
/** History keys sort by version: 'h:' and the version zero-padded to 16 digits. */
const histKey = (v: number): string => `h:${String(v).padStart(16, '0')}`;

/**
 * Three sub-databases: `entries` (kind:key → entry), `history` (h:version → change) and `meta` (the
 * version). A write runs in one synchronous LMDB transaction (the compare-and-set and both records
 * together) and resolves once it is on disk.
 */
export class LmdbCatalogStore implements CatalogStore {
  private readonly entries: Database<CatalogEntry, string>;
  private readonly hist: Database<CatalogChange, string>;
  private readonly meta: Database<number, string>;

  private constructor(private readonly root: RootDatabase) {
    this.entries = root.openDB<CatalogEntry, string>({ name: 'entries', encoding: 'msgpack' });
    this.hist = root.openDB<CatalogChange, string>({ name: 'history', encoding: 'msgpack' });
    this.meta = root.openDB<number, string>({ name: 'meta', encoding: 'msgpack' });
  }

  /** Open (or create) the store in `dir`. */
  static open(dir: string): LmdbCatalogStore {
    fs.mkdirSync(dir, { recursive: true });
    return new LmdbCatalogStore(open({ path: dir, maxDbs: 4 }));
  }

  async version(): Promise<number> {
    return this.meta.get(VERSION_KEY) ?? 0;
  }

  async load(): Promise<CatalogSnapshot> {
    const entries = [...this.entries.getRange({}).map(({ value }) => value)];
    return { version: this.meta.get(VERSION_KEY) ?? 0, entries };
  }

  async write(kind: CatalogKind, key: string, doc: unknown | null, expect: number, ts: number): Promise<CatalogChange | null> {
    const change = this.root.transactionSync(() => {
      const v = this.meta.get(VERSION_KEY) ?? 0;
      if (v !== expect) return null;
      return this.apply(v + 1, kind, key, doc, ts);
    });
    if (change) await this.root.flushed;
    return change;
  }

  /** Inside a transaction: write one change as version `v`. */
  private apply(v: number, kind: CatalogKind, key: string, doc: unknown | null, ts: number): CatalogChange {
    const ek = entryKey(kind, key);
    const old = this.entries.get(ek);
    const created = old?.created ?? v;
    if (doc === null) this.entries.removeSync(ek);
    else this.entries.putSync(ek, { kind, key, version: v, created, doc });
    const change: CatalogChange = { version: v, kind, key, created, doc, ts };
    this.hist.putSync(histKey(v), change);
    if (v > CATALOG_HISTORY_MAX) this.hist.removeSync(histKey(v - CATALOG_HISTORY_MAX));
    this.meta.putSync(VERSION_KEY, v);
    return change;
  }

  async seed(entries: ReadonlyArray<{ kind: CatalogKind; key: string; doc: unknown }>, ts: number): Promise<boolean> {
    const done = this.root.transactionSync(() => {
      if ((this.meta.get(VERSION_KEY) ?? 0) !== 0) return false;
      entries.forEach((e, i) => this.apply(i + 1, e.kind, e.key, e.doc, ts));
      return true;
    });
    if (done) await this.root.flushed;
    return done;
  }

  async changesSince(version: number, limit: number): Promise<CatalogChange[] | null> {
    const out = [...this.hist.getRange({ start: histKey(version + 1), limit }).map(({ value }) => value)];
    const newest = this.meta.get(VERSION_KEY) ?? 0;
    if (newest > version && (out.length === 0 || out[0]!.version !== version + 1)) return null;
    return out;
  }

  async history(limit: number): Promise<CatalogChange[]> {
    return [...this.hist.getRange({ reverse: true, limit }).map(({ value }) => value)];
  }

  async close(): Promise<void> {
    await this.root.flushed;
    await this.root.close();
  }
}
