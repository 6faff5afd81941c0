// Hot-path fix writer: non-blocking batched puts, commit tracking for flush(), bounded retry of failed commits.
import { encodeFix } from '../fix-codec.js';
import { FixBatch, fixBatch, type FixInput } from '../fix-batch.js';
import type { StorageLogger } from '../storage-logger.js';

export type FixKey = [driver: string, ts: number];
/** [key, value, fixes it holds]. */
type Entry = [unknown, unknown, number];

/** The part of an lmdb-js Database the writer needs (a fake in tests). */
export interface FixSink {
  /** Queues a write; the promise settles when its transaction commits (lmdb-js shares one per transaction). */
  put(key: any, value: any): Promise<boolean>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /**
   * Runs `fn`'s puts as one write batch (lmdb-js `batch`): one transaction per hand-over instead of
   * one commit started per put. The promise settles when that batch commits.
   */
  batch?(fn: () => void): Promise<unknown>;
}

/**
 * Turns a batch of storable fixes into store entries. The default writes one entry per fix
 * ([driver, ts] → FixValue); LmdbStorage writes one chunk per driver and time slice instead (see
 * lmdb-storage.ts). `push` receives each entry and how many fixes it holds; returns how many fixes it
 * could not encode (they are counted as dropped).
 */
export type FixEncoder = (fixes: FixBatch, push: (key: unknown, value: unknown, fixes: number) => void) => number;

const perFix: FixEncoder = (b, push) => {
  for (let i = 0; i < b.length; i++) push([b.drivers[i], b.ts[i]], encodeFix(b.at(i)), 1);
  return 0;
};

export interface FixWriterOptions {
  /** Delay before re-putting fixes whose commit failed, ms. */
  retryDelayMs?: number;
  /** Cap on fixes held for retry; the oldest are dropped beyond it. */
  maxRetryFixes?: number;
  /** Least time between two "dropped fixes" warnings, ms (bad input can arrive at fix rate). */
  warnIntervalMs?: number;
  encoder?: FixEncoder;
}

export interface FixWriterStats {
  /** Fixes waiting to be re-put after a failed commit. */
  retryQueued: number;
  /** Fixes given up on: invalid, rejected by the store (e.g. key too long), retry overflow, or after stop. */
  dropped: number;
}

export class FixWriter {
  private readonly pending = new Set<Promise<void>>();
  private retryQueue: Entry[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private lastError: unknown;
  private stopped = false;
  private droppedCount = 0;
  /** Fixes put but not yet committed (lmdb-js queues them in memory until its write thread commits). */
  private inflight = 0;
  private lastWarnMs = -Infinity;
  private readonly retryDelayMs: number;
  private readonly maxRetryFixes: number;
  private readonly warnIntervalMs: number;
  private readonly encoder: FixEncoder;

  constructor(
    private readonly sink: FixSink,
    private readonly log: StorageLogger,
    opts: FixWriterOptions = {},
  ) {
    this.retryDelayMs = opts.retryDelayMs ?? 1000;
    this.maxRetryFixes = opts.maxRetryFixes ?? 200_000;
    this.warnIntervalMs = opts.warnIntervalMs ?? 10_000;
    this.encoder = opts.encoder ?? perFix;
  }

  /** Encodes (copies) the fixes and queues them. Never throws, never waits for I/O; `fixes` may be reused after. */
  write(input: FixInput): void {
    const fixes = fixBatch(input);
    if (this.stopped) {
      this.drop(fixes.length, 'fixes dropped: storage closed');
      return;
    }
    let valid = fixes;
    let bad = 0;
    for (let i = 0; i < fixes.length; i++) if (!fixes.isStorable(i)) bad++;
    if (bad > 0) {
      valid = new FixBatch(fixes.length - bad);
      for (let i = 0; i < fixes.length; i++) {
        if (fixes.isStorable(i)) valid.push(fixes.drivers[i]!, fixes.keys[i]!, fixes.ts[i]!, fixes.lat[i]!, fixes.lng[i]!, fixes.hdg[i]!, fixes.spd[i]!, fixes.acc[i]!);
      }
      this.drop(bad, 'fixes dropped: missing driver or non-finite ts/lat/lng');
    }
    const entries: Entry[] = [];
    const unencoded = this.encoder(valid, (key, value, n) => {
      entries.push([key, value, n]);
    });
    if (unencoded > 0) this.drop(unencoded, 'fixes dropped: ts outside the storable range');
    if (entries.length > 0) this.putAll(entries);
  }

  /**
   * Resolves once every fix accepted before the call is committed (not necessarily fsynced: the
   * caller awaits the env's `flushed` for that). Failed commits get one immediate retry here;
   * rejects if fixes are still not committed after it.
   */
  async settle(): Promise<void> {
    await Promise.all([...this.pending]);
    if (this.retryQueue.length > 0 && !this.stopped) {
      this.retryNow();
      await Promise.all([...this.pending]);
    }
    if (this.retryQueue.length > 0) {
      throw new Error(`storage: ${this.retryQueue.length} fixes not committed`, { cause: this.lastError });
    }
  }

  /** Stops all writing (the env is about to close: lmdb-js crashes the process on a put after close). */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.retryQueue.length > 0) {
      this.droppedCount += this.retryQueue.length;
      this.log.error({ fixes: this.retryQueue.length, err: this.lastError }, 'fixes lost: storage closed before retry succeeded');
      this.retryQueue = [];
    }
  }

  /** Fixes handed to the writer and not yet committed (including those waiting for a retry). */
  backlog(): number {
    return this.inflight + this.retryQueue.length;
  }

  stats(): FixWriterStats {
    return { retryQueued: this.retryQueue.length, dropped: this.droppedCount };
  }

  private putAll(entries: Entry[]): void {
    let commit: Promise<unknown> | undefined;
    let batch = entries;
    let puts = 0;
    const run = (): void => {
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        try {
          commit = this.sink.put(e[0], e[1]);
          puts++;
        } catch (err) {
          // Synchronous rejections (key over 1978 bytes, env closed) will not improve with a retry.
          if (batch === entries) batch = entries.slice(0, i);
          this.drop(1, 'fix rejected by storage', err);
          continue;
        }
        if (batch !== entries) batch.push(e);
      }
    };
    if (this.sink.batch) {
      const all = this.sink.batch(run);
      if (puts > 0) commit = all;
      else all.catch(() => undefined);
    } else run();
    if (commit) this.watch(commit, batch);
  }

  /** One watcher per write() call; all puts of one call share a transaction, hence one commit promise. */
  private watch(commit: Promise<unknown>, batch: Entry[]): void {
    let n = 0;
    for (const e of batch) n += e[2];
    this.inflight += n;
    const done: Promise<void> = commit.then(
      () => {
        this.inflight -= n;
        this.pending.delete(done);
      },
      (err: unknown) => {
        this.inflight -= n;
        this.pending.delete(done);
        this.requeue(batch, err);
      },
    );
    this.pending.add(done);
  }

  /**
   * Caveat: a retried fix can overwrite a newer write of the same (driver, ts) that committed in
   * between; resends of one fix carry the same values, so last-write-wins is kept in practice.
   */
  private requeue(batch: Entry[], err: unknown): void {
    this.lastError = err;
    if (this.stopped) {
      this.drop(batch.length, 'fixes lost: commit failed after close', err);
      return;
    }
    for (const e of batch) this.retryQueue.push(e);
    const excess = this.retryQueue.length - this.maxRetryFixes;
    if (excess > 0) {
      this.retryQueue.splice(0, excess);
      this.droppedCount += excess;
      this.log.error({ fixes: excess, err }, 'fixes lost: retry buffer full');
    }
    this.log.warn({ fixes: batch.length, queued: this.retryQueue.length, err }, 'fix commit failed, will retry');
    if (!this.retryTimer) {
      this.retryTimer = setTimeout(() => this.retryNow(), this.retryDelayMs);
      this.retryTimer.unref();
    }
  }

  private retryNow(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.stopped || this.retryQueue.length === 0) return;
    const entries = this.retryQueue;
    this.retryQueue = [];
    this.putAll(entries);
  }

  private drop(n: number, msg: string, err?: unknown): void {
    this.droppedCount += n;
    const now = Date.now();
    if (now - this.lastWarnMs < this.warnIntervalMs) return;
    this.lastWarnMs = now;
    this.log.warn({ fixes: n, droppedTotal: this.droppedCount, err }, msg);
  }
}
