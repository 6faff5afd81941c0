// Driver fix ingest: judge each fix (order, duplicates, jumps), keep it in history, move the live fleet.
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import type { CityFleet } from '../fleet/city-fleet.js';
import type { Metrics } from '../observability/metrics.js';
import type { Fix } from '../protocol/messages.js';
import type { HistoryStore, StoredFix } from '../storage/ports.js';
import { DriverTracks, FixVerdict } from './jump-filter.js';
import type { FixVerdictCode } from './jump-filter.js';

export { FixVerdict };
export type { FixVerdictCode };

/** Called after a fix moved a driver's live position (the fleet already holds it). */
export type MoveListener = (driver: string, fleet: CityFleet | undefined, fix: Fix) => void;

const REJECT_REASON: Record<number, string> = {
  [FixVerdict.duplicate]: 'duplicate',
  [FixVerdict.future]: 'future',
  [FixVerdict.jump]: 'jump',
  [FixVerdict.overloaded]: 'overloaded',
};

/** Most fixes waiting for durable storage before new ones are refused (bounded memory under overload). */
export const MAX_STORAGE_BACKLOG = 400_000;

/**
 * Accepted fixes are buffered and handed to the history store in batches (every `flushMs`, default
 * 250 ms, or at `maxBatch`), so the store sees few large writes: the LMDB adapter writes one chunk per
 * driver per batch. The price is that a crash (not a graceful stop, which flushes) can lose the last
 * quarter second of fixes; `flush()` hands over what is buffered.
 */
export class Ingest {
  private readonly tracks = new DriverTracks();
  private batch: StoredFix[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly rejected: Record<string, { inc(): void }>;
  onMove: MoveListener = () => {};

  constructor(
    private readonly fleet: FleetRegistry,
    private readonly history: HistoryStore,
    private readonly metrics: Metrics,
    private readonly opts: { flushMs: number; maxBatch: number } = { flushMs: 250, maxBatch: 50_000 },
  ) {
    this.rejected = {
      duplicate: metrics.fixesRejected.labels({ reason: 'duplicate' }),
      future: metrics.fixesRejected.labels({ reason: 'future' }),
      jump: metrics.fixesRejected.labels({ reason: 'jump' }),
      overloaded: metrics.fixesRejected.labels({ reason: 'overloaded' }),
      invalid: metrics.fixesRejected.labels({ reason: 'invalid' }),
    };
  }

  /** Count a fix that failed range validation before reaching ingest. */
  countInvalid(n = 1): void {
    for (let i = 0; i < n; i++) this.rejected.invalid!.inc();
  }

  /** Judge and apply one range-valid fix of `driver` at server time `nowMs`. */
  accept(driver: string, fix: Fix, nowMs: number): FixVerdictCode {
    if (this.history.backlog !== undefined && this.batch.length + this.history.backlog() > MAX_STORAGE_BACKLOG) {
      this.rejected.overloaded!.inc();
      return FixVerdict.overloaded;
    }
    const v = this.tracks.judge(this.tracks.slotFor(driver), fix.ts, fix.lat, fix.lng, nowMs);
    if (v === FixVerdict.live || v === FixVerdict.history) {
      this.metrics.fixesAccepted.inc();
      this.batch.push({ driver, ts: fix.ts, lat: fix.lat, lng: fix.lng, hdg: fix.hdg, spd: fix.spd, acc: fix.acc });
      if (this.batch.length >= this.opts.maxBatch) this.flush();
      else if (this.timer === null) this.timer = setTimeout(() => this.flush(), this.opts.flushMs);
      if (v === FixVerdict.live) {
        const f = this.fleet.update(driver, fix.lat, fix.lng, fix.ts, fix.hdg, fix.spd);
        this.onMove(driver, f, fix);
      }
    } else {
      this.rejected[REJECT_REASON[v]!]!.inc();
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
    const b = this.batch;
    this.batch = [];
    this.history.appendFixes(b);
  }

  /** Forget per-driver state of drivers removed from the live fleet (bounded memory). */
  forget(ids: string[]): void {
    for (const id of ids) this.tracks.forget(id);
  }
}
