// Driver fix ingest: judge each fix (order, duplicates, jumps), keep it in history, move the live fleet.
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import type { CityFleet } from '../fleet/city-fleet.js';
import type { FixTallyKey, Metrics } from '../observability/metrics.js';
import type { Fix } from '../protocol/messages.js';
import { FixBatch } from '../storage/fix-batch.js';
import type { HistoryStore } from '../storage/ports.js';
import { DriverTracks, FixVerdict } from './jump-filter.js';
import type { FixVerdictCode } from './jump-filter.js';

export { FixVerdict };
export type { FixVerdictCode };

/** Called after a fix moved a driver's live position (the fleet already holds it). */
export type MoveListener = (driver: string, fleet: CityFleet | undefined, fix: Fix) => void;

const REJECT_REASON: Record<number, FixTallyKey> = {
  [FixVerdict.duplicate]: 'duplicate',
  [FixVerdict.future]: 'future',
  [FixVerdict.jump]: 'jump',
  [FixVerdict.overloaded]: 'overloaded',
};

/**
 * Most fixes waiting for durable storage before new ones are refused (bounded memory under overload).
 * Waiting fixes are compact (LMDB: ~30 B of chunk plus per-chunk overhead), so 2M is ~150 MB; the bound
 * must exceed one batch at full rate plus what arrives during a commit.
 */
export const MAX_STORAGE_BACKLOG = 2_000_000;

/**
 * Accepted fixes are buffered and handed to the history store in batches (every `flushMs`, default
 * 1 s, or at `maxBatch`, 1M), so the store sees few large writes: the LMDB adapter writes one chunk per
 * driver per batch. Why time and not count: the store's cost is per chunk (a B-tree insert, ~5-10 µs
 * on LMDB's write thread), and chunks per second = drivers / flush interval whatever the fix rate;
 * flushing on a fix count made every chunk tiny at high rates and swamped the write thread. The price is
 * that a crash (not a graceful stop, which flushes) can lose the last second of accepted fixes;
 * `flush()` hands over what is buffered.
 */
export class Ingest {
  private readonly tracks = new DriverTracks();
  /** Accepted fixes not yet handed to the store: columns, reused after every flush (the store copies). */
  private readonly batch = new FixBatch(4096);
  private timer: NodeJS.Timeout | null = null;
  private readonly tally: Record<FixTallyKey, number>;
  onMove: MoveListener = () => {};

  constructor(
    private readonly fleet: FleetRegistry,
    private readonly history: HistoryStore,
    metrics: Metrics,
    private readonly opts: { flushMs: number; maxBatch: number } = { flushMs: 1000, maxBatch: 1_000_000 },
  ) {
    this.tally = metrics.fixTally;
  }

  /** Count a fix that failed range validation before reaching ingest. */
  countInvalid(n = 1): void {
    this.tally.invalid += n;
  }

  /** Judge and apply one range-valid fix of `driver` at server time `nowMs`. Copies what it keeps of `fix`. */
  accept(driver: string, fix: Fix, nowMs: number): FixVerdictCode {
    const batch = this.batch;
    if (this.history.backlog !== undefined && batch.length + this.history.backlog() > MAX_STORAGE_BACKLOG) {
      this.tally.overloaded++;
      return FixVerdict.overloaded;
    }
    const slot = this.tracks.slotFor(driver);
    const v = this.tracks.judge(slot, fix.ts, fix.lat, fix.lng, nowMs);
    if (v === FixVerdict.live || v === FixVerdict.history) {
      this.tally.accepted++;
      batch.push(driver, slot, fix.ts, fix.lat, fix.lng, fix.hdg, fix.spd, fix.acc);
      if (batch.length >= this.opts.maxBatch) this.flush();
      else if (this.timer === null) this.timer = setTimeout(() => this.flush(), this.opts.flushMs);
      if (v === FixVerdict.live) {
        const f = this.fleet.update(driver, fix.lat, fix.lng, fix.ts, fix.hdg, fix.spd);
        this.onMove(driver, f, fix);
      }
    } else {
      this.tally[REJECT_REASON[v]!]++;
    }
    return v;
  }

  /** Hand buffered fixes to the history store (which makes them durable on its own schedule). */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.batch.length === 0) return;
    this.history.appendFixes(this.batch);
    this.batch.clear();
  }

  /** Forget per-driver state of drivers removed from the live fleet (bounded memory). */
  forget(ids: string[]): void {
    for (const id of ids) this.tracks.forget(id);
  }
}
