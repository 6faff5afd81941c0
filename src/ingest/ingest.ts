// Driver fix ingest: judge each fix (order, duplicates, jumps), keep it in history, move the live fleet.
import type { FixBudget } from '../config/fix-budget.js';
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

/**
 * Called after a fix moved a driver's live position (the fleet already holds it); `fleet` is the driver's
 * city fleet, undefined outside every city. Runs on the ingest hot path, once per live fix: keep it cheap.
 * `fix` is the caller's object, reused for the next fix: copy what is kept. `slot` is ingest's small
 * integer for the driver (0 up, dense): the same while ingest keeps state for the driver, then reused for
 * another driver, so a listener keeping per-slot columns (no map lookup per fix) checks the slot's owner.
 */
export type MoveListener = (driver: string, fleet: CityFleet | undefined, fix: Fix, slot: number) => void;

const REJECT_REASON: Record<number, FixTallyKey> = {
  [FixVerdict.duplicate]: 'duplicate',
  [FixVerdict.future]: 'future',
  [FixVerdict.jump]: 'jump',
  [FixVerdict.overloaded]: 'overloaded',
  [FixVerdict.rateLimited]: 'rate_limited',
};

/**
 * Most fixes waiting for durable storage before new ones are refused (bounded memory under overload).
 * Waiting fixes are compact (LMDB: ~30 B of chunk plus per-chunk overhead), so 2M is ~150 MB; the bound
 * must exceed one batch at full rate plus what arrives during a commit.
 */
export const MAX_STORAGE_BACKLOG = 2_000_000;

export interface IngestOptions {
  /** Longest an accepted fix waits before it is handed to the history store, ms (default 4000). */
  sealMs: number;
  /** Driver cohorts: one is handed over every sealMs / cohorts ms (default 64, so every 62.5 ms). */
  cohorts: number;
  /**
   * A cohort holding this many fixes is handed over at once (default 16,384: all cohorts together buffer at most
   * ~1M fixes, which count toward MAX_STORAGE_BACKLOG; 64 cohorts of 65,536 let 4 s of a flat-out stream, 2.4M
   * fixes, sit in the cohorts and ingest refused fixes as `overloaded` with storage idle).
   */
  maxCohortFixes: number;
  /** Per-driver fix budget; undefined (the default here; the server sets its own): none. */
  budget?: FixBudget;
}

export const INGEST_DEFAULTS: IngestOptions = { sealMs: 4000, cohorts: 64, maxCohortFixes: 16_384, budget: undefined };

/**
 * Accepted fixes are buffered and handed to the history store in batches, so the store sees few large
 * writes: the LMDB adapter writes one chunk per driver per batch, and its cost is per chunk (a B-tree
 * insert: ~3 µs on the event loop and ~7 µs on LMDB's write thread), so what matters is how many fixes
 * one driver's chunk holds. Drivers are split into cohorts (by ingest slot); each cohort is handed over
 * every `sealMs` (its drivers' chunks then hold ~4 fixes at 1 Hz instead of 1), and the cohorts take
 * turns, so each hand-over is 1/64 of the work (no 100 ms stall every few seconds; with 16 cohorts a hand-over
 * at 100,000 fixes/s was 25,000 fixes, a 25-80 ms task on the event loop every 250 ms that every fix and request
 * queued behind, CPU profile of `bench dispatch` at commit e43b763). A cohort that grows
 * past `maxCohortFixes` (flat-out senders) goes at once. The price: a crash (not a graceful stop, which
 * flushes) can lose up to `sealMs` of accepted fixes, and `track` shows a fix once its cohort has been
 * handed over and committed; `flush()` hands over everything now.
 */
export class Ingest {
  private readonly tracks: DriverTracks;
  /** Accepted fixes not yet handed to the store, per cohort: columns, reused after every hand-over. */
  private readonly cohorts: FixBatch[];
  /** Fixes in all cohorts. */
  private buffered = 0;
  private nextCohort = 0;
  /**
   * Per cohort, when its oldest buffered fix was accepted (server clock, ms; 0 when empty). The turn-taking
   * alone bounds a fix's wait by 16 timer ticks, not by `sealMs`: with the event loop starved (a machine at
   * load 30) each 250 ms tick ran late and fixes waited over 10 s (chaos run of 2026-12-04); a tick
   * therefore also hands over every cohort whose oldest fix is `sealMs` old.
   */
  private readonly oldestAt: Float64Array;
  private timer: NodeJS.Timeout | null = null;
  private readonly tally: Record<FixTallyKey, number>;
  private readonly opts: IngestOptions;
  /** Called in order for every live fix; a plain array so the hot path allocates nothing per fix. */
  private readonly moveListeners: MoveListener[] = [];

  constructor(
    private readonly fleet: FleetRegistry,
    private readonly history: HistoryStore,
    metrics: Metrics,
    opts: Partial<IngestOptions> = {},
  ) {
    this.opts = { ...INGEST_DEFAULTS, ...opts };
    this.tracks = new DriverTracks(1024, this.opts.budget);
    this.cohorts = Array.from({ length: Math.max(1, Math.floor(this.opts.cohorts)) }, () => new FixBatch(256));
    this.oldestAt = new Float64Array(this.cohorts.length);
    this.tally = metrics.fixTally;
  }

  /**
   * Add a listener called after every fix that moved a driver's live position, after those added before it.
   * Listeners are never replaced; one that throws fails that fix's `accept` (the fix is already applied).
   */
  addMoveListener(listener: MoveListener): void {
    this.moveListeners.push(listener);
  }

  /** Count a fix that failed range validation before reaching ingest. */
  countInvalid(n = 1): void {
    this.tally.invalid += n;
  }

  /** Count fixes refused `rate_limited` without being read (a `locs` frame refused whole). */
  countLimited(n: number): void {
    this.tally.rate_limited += n;
  }

  /**
   * True when `driver` has less than one fix of budget left at `nowMs`: its next fix would be refused
   * `rate_limited`, so a caller may refuse a whole batch before decoding it. False for a driver ingest
   * holds no state for (it starts with a full budget) and always false without a budget.
   */
  budgetSpent(driver: string, nowMs: number): boolean {
    const slot = this.tracks.slotOf(driver);
    return slot >= 0 && this.tracks.tokensLeft(slot, nowMs) < 1;
  }

  /**
   * Judge and apply one range-valid fix of `driver` at server time `nowMs`. Copies what it keeps of `fix`.
   * Refused unjudged: `overloaded` when storage is too far behind, `rateLimited` when the driver's fix
   * budget is spent; otherwise the fix takes one budget token, whatever its verdict.
   */
  accept(driver: string, fix: Fix, nowMs: number): FixVerdictCode {
    if (this.history.backlog !== undefined && this.buffered + this.history.backlog() > MAX_STORAGE_BACKLOG) {
      this.tally.overloaded++;
      return FixVerdict.overloaded;
    }
    const slot = this.tracks.slotFor(driver);
    if (!this.tracks.take(slot, nowMs)) {
      this.tally.rate_limited++;
      return FixVerdict.rateLimited;
    }
    const v = this.tracks.judge(slot, fix.ts, fix.lat, fix.lng, nowMs);
    if (v === FixVerdict.live || v === FixVerdict.history) {
      this.tally.accepted++;
      const c = slot % this.cohorts.length;
      const batch = this.cohorts[c]!;
      if (batch.length === 0) this.oldestAt[c] = nowMs;
      batch.push(driver, slot, fix.ts, fix.lat, fix.lng, fix.hdg, fix.spd, fix.acc);
      this.buffered++;
      if (batch.length >= this.opts.maxCohortFixes) this.handOver(c);
      if (this.timer === null) this.timer = setTimeout(this.tick, this.opts.sealMs / this.cohorts.length);
      if (v === FixVerdict.live) {
        this.tracks.rejoined(driver);
        const f = this.fleet.update(driver, fix.lat, fix.lng, fix.ts, fix.hdg, fix.spd);
        const ls = this.moveListeners;
        for (let i = 0; i < ls.length; i++) ls[i]!(driver, f, fix, slot);
      }
    } else {
      this.tally[REJECT_REASON[v]!]++;
    }
    return v;
  }

  /** Hand every buffered fix to the history store now (which makes them durable on its own schedule). */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    for (let c = 0; c < this.cohorts.length; c++) this.handOver(c);
  }

  /** Fixes accepted and not yet handed to the history store. */
  get bufferedFixes(): number {
    return this.buffered;
  }

  private readonly tick = (): void => {
    this.timer = null;
    this.handOver(this.nextCohort);
    this.nextCohort = (this.nextCohort + 1) % this.cohorts.length;
    // Late timers: whatever waited `sealMs` goes now, so the crash window stays `sealMs` plus one tick's lateness.
    const due = Date.now() - this.opts.sealMs;
    for (let c = 0; c < this.cohorts.length; c++) if (this.cohorts[c]!.length > 0 && this.oldestAt[c]! <= due) this.handOver(c);
    if (this.buffered > 0) this.timer = setTimeout(this.tick, this.opts.sealMs / this.cohorts.length);
  };

  private handOver(c: number): void {
    const batch = this.cohorts[c]!;
    if (batch.length === 0) return;
    this.buffered -= batch.length;
    this.history.appendFixes(batch);
    batch.clear();
  }

  /**
   * Forget per-driver state of drivers removed from the live fleet (bounded memory). Drivers whose fix
   * budget is not full again are kept until a later call finds it full (forgetting them would give them
   * a fresh burst).
   */
  forget(ids: readonly string[]): void {
    const now = Date.now();
    for (const id of ids) this.tracks.forget(id, now);
    this.tracks.forgetOwing(now);
  }
}
