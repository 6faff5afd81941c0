// Embedded mode's durable live state (job documents, driver claims, timers): small LMDB tables written through from memory.
import fs from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { LiveStateErrorListener, LiveStateStore, StateTable } from '../live-state.js';

/**
 * The live-state LMDB environment in the data dir; one sub-database per table name, msgpack values.
 * lmdb-js queues writes and commits those of one event-loop turn in one transaction, so what one
 * in-memory operation wrote is either all on disk or none of it; `flushed()` resolves once everything
 * queued is durable.
 */
export class LmdbState implements LiveStateStore {
  private closed = false;

  private constructor(private readonly root: RootDatabase, private readonly onError: LiveStateErrorListener) {}

  /** Open (or create) the environment in `dir`; `onError` hears about writes that failed (logged, never thrown). */
  static open(dir: string, onError: LiveStateErrorListener = () => {}): LmdbState {
    fs.mkdirSync(dir, { recursive: true });
    return new LmdbState(open({ path: dir, maxDbs: 8 }), onError);
  }

  /** At most 8 tables per environment (`maxDbs`); embedded mode uses four. */
  table<T>(name: string): StateTable<T> {
    const db: Database<T, string> = this.root.openDB<T, string>({ name, encoding: 'msgpack' });
    const fail = this.onError;
    // A write after close (a timer firing during shutdown) is reported, never thrown into the caller.
    // (lmdb-js would throw from a setImmediate, uncatchable, so such a write is dropped before it starts.)
    const guard = (write: () => Promise<unknown>): void => {
      if (this.closed) return fail(new Error(`live state closed: write to ${name} dropped`));
      try {
        write().catch(fail);
      } catch (err) {
        fail(err);
      }
    };
    return {
      put: (key, value) => guard(() => db.put(key, value)),
      remove: (key) => guard(() => db.remove(key)),
      entries: () => Array.from(db.getRange({}), ({ key, value }) => [key, value] as [string, T]),
    };
  }

  /** Resolves when every write queued so far is committed. */
  flushed(): Promise<void> {
    return this.root.flushed.then(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.root.flushed;
    await this.root.close();
  }
}
