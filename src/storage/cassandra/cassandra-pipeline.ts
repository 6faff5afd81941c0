// The write path: a bounded in-memory queue to Cassandra, the local spool when Cassandra is slow or down, replay in order.
import { decodeItem, encodeItem, fixesIn, type WriteItem } from './cassandra-items.js';
import type { CassandraMetrics } from './cassandra-metrics.js';
import type { Spool } from '../spool.js';
import type { StorageLogger } from '../storage-logger.js';

/** Writes one item to Cassandra (ItemWriter in production, a fake in tests). */
export interface ItemSink {
  write(it: WriteItem): Promise<void>;
}

export interface PipelineOptions {
  /** Item writes in flight at once. */
  concurrency: number;
  /** Fixes held in the queue (and in flight) before new writes go to the spool: the memory bound. */
  maxQueueFixes: number;
  /** Job events held likewise. */
  maxQueueEvents: number;
  /** Replay backoff after a failed attempt: first and longest wait, ms. */
  retryMinMs: number;
  retryMaxMs: number;
}

interface Entry {
  item: WriteItem;
  /** flush() generation the item was submitted in. */
  gen: number;
  done?: (err?: Error) => void;
}

export type PipelineLogger = StorageLogger & { info?(obj: object, msg: string): void };

/** Polling for a caller that awaits drain or stop: keeps the process alive while it waits. */
const poll = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Two modes. `direct`: items queue in memory and are written with bounded concurrency. When the
 * queue is full (Cassandra slower than ingest) or a write fails (Cassandra down), the pipeline
 * switches to `spooling`: queued, failed and new items are appended to the spool (durable once
 * fdatasync'ed), and a replay loop writes the spool to Cassandra oldest first, retrying with backoff.
 * Once the spool is fully replayed it switches back. Every write is an idempotent upsert, so an item
 * written twice (a timed-out write that did land, a replay after a crash) is still stored once.
 */
export class WritePipeline {
  mode: 'direct' | 'spooling' = 'direct';
  private queue: Entry[] = [];
  private head = 0;
  private inflight = 0;
  /** Fixes and events queued or in flight (direct mode). */
  private memFixes = 0;
  private memEvents = 0;
  private gen = 0;
  /** Unsettled items per generation (keys ascend: generations only grow). */
  private readonly unsettled = new Map<number, number>();
  private flushWaiters: Array<{ gen: number; resolve: () => void }> = [];
  private replaying: Promise<void> | null = null;
  private stopped = false;
  private lastError: unknown;
  /** Ends the current replay backoff early (stop() must not wait out a 5 s backoff). */
  private wake: (() => void) | null = null;

  constructor(
    private readonly sink: ItemSink,
    private readonly spool: Spool,
    private readonly metrics: CassandraMetrics,
    private readonly log: PipelineLogger,
    private readonly opts: PipelineOptions,
  ) {}

  /** Fixes and events held in memory (queued or in flight). */
  get memory(): { fixes: number; events: number } {
    return { fixes: this.memFixes, events: this.memEvents };
  }

  /** Hands an item over; `done` runs once it is in Cassandra or durable in the spool (or lost, with the error). */
  submit(item: WriteItem, done?: (err?: Error) => void): void {
    const e: Entry = { item, gen: this.gen, done };
    this.unsettled.set(e.gen, (this.unsettled.get(e.gen) ?? 0) + 1);
    if (this.mode === 'direct' && !this.stopped) {
      const n = fixesIn(item);
      if (this.memFixes + n <= this.opts.maxQueueFixes && this.memEvents + (n ? 0 : 1) <= this.opts.maxQueueEvents) {
        this.queue.push(e);
        this.hold(item, 1);
        this.pump();
        return;
      }
      this.startSpooling('queue full: Cassandra is slower than ingest');
    }
    this.toSpool(e);
  }

  /** A spool left by a previous run: replay it first; new writes queue behind it in the spool. */
  resumeBacklog(): void {
    this.startSpooling('replaying the spool left by a previous run');
  }

  /** Resolves once every item submitted before the call is in Cassandra or durable in the spool. */
  flush(): Promise<void> {
    const g = this.gen++;
    if (this.settledUpTo(g)) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push({ gen: g, resolve }));
  }

  /** True when nothing is queued, in flight or spooled: everything accepted is in Cassandra. */
  get idle(): boolean {
    return this.mode === 'direct' && this.inflight === 0 && this.head === this.queue.length && this.spool.isEmpty;
  }

  /** Waits until idle or `timeoutMs` passes; true when idle. */
  async drain(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (!this.idle) {
      if (Date.now() >= until) return false;
      await poll(20);
    }
    return true;
  }

  /**
   * Stops writing to Cassandra: queued items go to the spool, in-flight writes finish (or fail into
   * the spool), the replay loop ends. The spool is left open for the caller to close.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake?.();
    this.moveQueueToSpool();
    while (this.inflight > 0) await poll(20); // bounded by the driver's per-request timeout
    await this.replaying;
  }

  private hold(item: WriteItem, sign: 1 | -1): void {
    const n = fixesIn(item);
    if (n) this.memFixes += sign * n;
    else this.memEvents += sign;
  }

  private pump(): void {
    while (!this.stopped && this.mode === 'direct' && this.inflight < this.opts.concurrency && this.head < this.queue.length) {
      const e = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as Entry; // release for GC; compacted below
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.inflight++;
      this.sink.write(e.item).then(
        () => {
          this.inflight--;
          this.hold(e.item, -1);
          this.settle(e);
          this.pump();
        },
        (err: unknown) => {
          this.inflight--;
          this.hold(e.item, -1);
          this.lastError = err;
          this.startSpooling('write failed: Cassandra slow or unreachable', err);
          this.toSpool(e);
        },
      );
    }
  }

  private startSpooling(reason: string, err?: unknown): void {
    if (this.mode === 'spooling') return;
    this.mode = 'spooling';
    this.metrics.spooling.set(1);
    this.log.warn({ reason, err, queued: this.queue.length - this.head, inflight: this.inflight }, 'storage: spooling writes locally until Cassandra catches up');
    this.moveQueueToSpool();
    if (!this.stopped && this.replaying === null) this.replaying = this.replayLoop();
  }

  private moveQueueToSpool(): void {
    const rest = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    for (const e of rest) {
      this.hold(e.item, -1);
      this.toSpool(e);
    }
  }

  private toSpool(e: Entry): void {
    const kind = e.item.kind === 'chunk' ? 'fixes' : 'job_events';
    if (this.spool.append(encodeItem(e.item), () => this.settle(e))) {
      this.metrics.spooled.inc({ kind }, e.item.kind === 'chunk' ? e.item.n : 1);
      return;
    }
    const n = e.item.kind === 'chunk' ? e.item.n : 1;
    this.metrics.dropped.inc({ reason: 'spool_full' }, n);
    this.log.error({ kind, n, pendingBytes: this.spool.pendingBytes, err: this.lastError }, 'storage: spool full or closed: writes LOST');
    this.settle(e, new Error('storage: spool full or closed'));
  }

  private settle(e: Entry, err?: Error): void {
    const left = (this.unsettled.get(e.gen) ?? 1) - 1;
    if (left > 0) this.unsettled.set(e.gen, left);
    else this.unsettled.delete(e.gen);
    e.done?.(err);
    if (this.flushWaiters.length === 0) return;
    this.flushWaiters = this.flushWaiters.filter((w) => {
      if (!this.settledUpTo(w.gen)) return true;
      w.resolve();
      return false;
    });
  }

  private settledUpTo(gen: number): boolean {
    for (const g of this.unsettled.keys()) return g > gen; // the first key is the oldest unsettled generation
    return true;
  }

  /** Replays the spool to Cassandra, oldest first, until it is empty (then back to direct) or stop(). */
  private async replayLoop(): Promise<void> {
    let delay = this.opts.retryMinMs;
    let replayed = 0;
    try {
      while (!this.stopped) {
        await this.spool.sync();
        const batch = await this.spool.read(this.opts.concurrency * 8);
        if (batch.length === 0) {
          await this.spool.commitRead();
          if (!this.spool.isEmpty) continue; // appends arrived meanwhile
          this.mode = 'direct';
          this.metrics.spooling.set(0);
          this.log.info?.({ replayed }, 'storage: spool replayed, writing to Cassandra directly again');
          await this.spool.reset();
          if (this.mode === 'direct') return; // else a write failed during the reset: keep replaying
          continue;
        }
        let pending: WriteItem[] = [];
        for (const r of batch) {
          try {
            pending.push(decodeItem(r.payload));
          } catch (err) {
            this.metrics.dropped.inc({ reason: 'corrupt' });
            this.log.error({ err }, 'storage: undecodable spool record skipped');
          }
        }
        while (pending.length && !this.stopped) {
          pending = await this.writeAll(pending);
          if (!pending.length) break;
          await this.backoff(delay);
          delay = Math.min(delay * 2, this.opts.retryMaxMs);
        }
        if (pending.length) return; // stopped mid-batch: the records stay in the spool for the next start
        delay = this.opts.retryMinMs;
        replayed += batch.length;
        await this.spool.commit(batch.at(-1)!.pos);
      }
    } catch (err) {
      // Disk trouble reading the spool: keep the records, try again later.
      this.log.error({ err }, 'storage: spool replay failed, retrying');
      this.spool.rewind();
      await this.backoff(this.opts.retryMaxMs);
      this.replaying = null;
      if (!this.stopped && this.mode === 'spooling') this.replaying = this.replayLoop();
      return;
    } finally {
      if (this.mode === 'direct' || this.stopped) this.replaying = null;
    }
  }

  /** Waits between replay attempts; unref'd, so a retrying spool alone never keeps a process alive. */
  private backoff(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wake = done;
    });
  }

  /** Writes items with bounded concurrency; returns those that failed. */
  private async writeAll(items: WriteItem[]): Promise<WriteItem[]> {
    const failed: WriteItem[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const it = items[next++]!;
        try {
          await this.sink.write(it);
        } catch (err) {
          this.lastError = err;
          failed.push(it);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, items.length) }, worker));
    return failed;
  }
}
