// Live-state port: small durable key-value tables that embedded mode's in-memory job repo and timers write through to.

/**
 * One key-value table mirrored from an in-memory structure: string keys, msgpack-able values. Guarantees:
 * - `put` and `remove` never throw and never wait: a write that fails, or comes after the store's
 *   `close()`, is reported to the store's error listener and dropped (the in-memory copy stays the truth
 *   for the running process);
 * - `put` copies the value before returning: later changes to the object do not reach the table;
 *   the last write of a key wins; removing an absent key does nothing;
 * - the writes of one event-loop turn are committed together (after a crash: all of them or none);
 * - `entries()` returns every entry committed (at least everything written before the last
 *   `flushed()` resolved), in ascending key order (UTF-8 bytes); it is meant for start-up, not hot paths.
 */
export interface StateTable<T> {
  put(key: string, value: T): void;
  remove(key: string): void;
  /** Every stored entry, in key order (read once, at start-up). */
  entries(): Array<[string, T]>;
}

/**
 * A set of named live-state tables. Adapters: LMDB (`lmdb/lmdb-state.ts`, durable across restarts) and
 * memory (`memory-live-state.ts`, lives and dies with the process).
 */
export interface LiveStateStore {
  /** The table called `name`; the same name gives the same entries. */
  table<T>(name: string): StateTable<T>;
  /** Resolves when every write queued so far is committed (durable, for a durable adapter). */
  flushed(): Promise<void>;
  /** Commits what is queued, then releases the store. Idempotent; writes after it are reported and dropped. */
  close(): Promise<void>;
}

/** Hears about live-state writes that failed (or came after close): log them, never throw. */
export type LiveStateErrorListener = (err: unknown) => void;
