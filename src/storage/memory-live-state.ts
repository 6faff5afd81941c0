// In-memory live-state adapter: the LiveStateStore port without durability (tests, and a process that keeps nothing).
import type { LiveStateErrorListener, LiveStateStore, StateTable } from './live-state.js';

/** Ascending UTF-8 byte order of keys, as LMDB keeps them. */
function byKeyBytes(a: [string, unknown], b: [string, unknown]): number {
  return Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0]));
}

/** Tables are Maps of structured clones; every write is "committed" at once, so `flushed()` has nothing to wait for. */
export class MemoryLiveState implements LiveStateStore {
  private readonly tables = new Map<string, Map<string, unknown>>();
  private closed = false;

  constructor(private readonly onError: LiveStateErrorListener = () => {}) {}

  table<T>(name: string): StateTable<T> {
    let rows = this.tables.get(name);
    if (!rows) this.tables.set(name, (rows = new Map()));
    const m = rows;
    const guard = (write: () => void): void => {
      if (this.closed) return this.onError(new Error(`live state closed: write to ${name} dropped`));
      try {
        write();
      } catch (err) {
        this.onError(err); // a value structuredClone cannot copy
      }
    };
    return {
      put: (key, value) => guard(() => m.set(key, structuredClone(value))),
      remove: (key) => guard(() => m.delete(key)),
      entries: () => Array.from(m, ([k, v]) => [k, structuredClone(v) as T] as [string, T]).sort(byKeyBytes),
    };
  }

  flushed(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
