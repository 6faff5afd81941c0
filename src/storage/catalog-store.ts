// Catalog-store port: the versioned, durable documents of cities and zones that the admin API writes.

/** What a catalog entry is: a city (keyed by name) or a zone (keyed by id). */
export type CatalogKind = 'city' | 'zone';

/** One stored entry: its document, the version that wrote it last and the version that created it. */
export interface CatalogEntry {
  kind: CatalogKind;
  key: string;
  /** Catalog version of the entry's last write. */
  version: number;
  /** Catalog version that created the entry (cities are tried in this order when they overlap). */
  created: number;
  doc: unknown;
}

/** One change of the history: a put (`doc` set) or a delete (`doc` null), with the version it made. */
export interface CatalogChange {
  version: number;
  kind: CatalogKind;
  key: string;
  /** Creation version of the entry (for a delete: of the entry deleted). */
  created: number;
  /** The new document, or null for a delete. */
  doc: unknown | null;
  /** When the change was written, ms since the epoch (the writer's clock). */
  ts: number;
}

/** Everything the store holds now, with the version of its newest change (0: empty, never written). */
export interface CatalogSnapshot {
  version: number;
  entries: CatalogEntry[];
}

/** Most changes kept in the history; older ones are dropped (the entries themselves stay). */
export const CATALOG_HISTORY_MAX = 10_000;

/**
 * Durable, versioned catalog documents. Guarantees (checked by test/contract/catalog-store-contract.ts
 * on every adapter):
 * - one version counter for the whole catalog: every change takes the next integer (1, 2, ...), never reused;
 * - `write` is a compare-and-set on that counter: it applies only when the store's version is still
 *   `expect` (the version the caller validated against) and returns the change, else null and nothing
 *   is written, so checks spanning entries (a zone inside its city) hold across concurrent writers;
 * - a change and its history record are written together, and are durable when `write` resolves;
 * - `seed` writes its entries only into a store never written (version 0), as consecutive versions;
 * - `changesSince(v)` returns the changes after version v in version order, or null when the history
 *   no longer reaches back to v (the caller then reads `load()`); at most CATALOG_HISTORY_MAX are kept;
 * - every instance on the same backing (another node, or the same data dir after a restart) sees the
 *   same entries, versions and history.
 * Propagation to running nodes is not the store's job: see catalog/city-catalog.ts.
 */
export interface CatalogStore {
  /** The version of the newest change (0 when never written). */
  version(): Promise<number>;
  load(): Promise<CatalogSnapshot>;
  /** Put (`doc` not null) or delete (`doc` null) one entry if the store is still at version `expect`. Deleting an absent entry is a change too. */
  write(kind: CatalogKind, key: string, doc: unknown | null, expect: number, ts: number): Promise<CatalogChange | null>;
  /** Write `entries` as versions 1..n when the store is empty; false (nothing written) when it is not. */
  seed(entries: ReadonlyArray<{ kind: CatalogKind; key: string; doc: unknown }>, ts: number): Promise<boolean>;
  /** Changes after `version`, oldest first, at most `limit`; null when the history was trimmed past `version`. */
  changesSince(version: number, limit: number): Promise<CatalogChange[] | null>;
  /** The newest `limit` changes, newest first (for the admin history view). */
  history(limit: number): Promise<CatalogChange[]>;
  close(): Promise<void>;
}

/** The hash field / LMDB key suffix of an entry. */
export function entryKey(kind: CatalogKind, key: string): string {
  return `${kind}:${key}`;
}
