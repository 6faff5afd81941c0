// Soak verdicts: least-squares trends of per-interval samples, and the pass rules of `npm run soak`.

/** One reporting interval of a soak (by default a minute). */
export interface SoakRow {
  /** Minutes since the load started (end of the interval). */
  atMin: number;
  rssMb: number;
  /** Anonymous resident memory (heap, buffers, native allocations), MB: RSS less file-backed pages such as LMDB's map. */
  rssAnonMb: number;
  /** JS heap in use when the row was taken, MB (swings with the collector's phase). */
  heapUsedMb: number;
  /** Lowest JS heap in use during the interval (1 s samples), MB: about the live heap after its last full GC. Judged. */
  heapFloorMb?: number;
  /** V8 heap reserved (heapTotal), MB, and memory outside it that V8 knows of (external, ArrayBuffers included), MB. */
  heapTotalMb?: number;
  externalMb?: number;
  loopDelayP99Ms: number;
  fixToVisibleP99Ms: number;
  dispatchP99Ms: number;
  fixesPerS: number;
  jobs: number;
  offered: number;
  /** The server's CPU during the interval, % of one core. */
  serverCpuPct: number;
  /** The whole machine's busy cores during the interval (other work on a shared box shows here). */
  machineBusyCores: number;
}

export interface SoakVerdict {
  /** Slope after warm-up, MB per minute, of the anonymous RSS and of the JS heap (each interval's floor). */
  rssAnonSlopeMbPerMin: number;
  heapSlopeMbPerMin: number;
  /** Medians of the per-interval p99s in the first and last third after warm-up, ms. */
  visibleP99: { first: number; last: number };
  dispatchP99: { first: number; last: number };
  accepted: number;
  stored: number;
  lost: number;
  /** Each rule and whether it held; `judged` false when the run is too short for trends (only the loss rule counts). */
  rules: Array<{ rule: string; ok: boolean; value: string }>;
  judged: boolean;
  pass: boolean;
}

export interface SoakBounds {
  /** Largest anonymous-RSS slope after warm-up that counts as flat, MB/min. */
  rssSlopeMbPerMin: number;
  /** Largest heap slope after warm-up that counts as flat, MB/min. */
  heapSlopeMbPerMin: number;
  /** A p99 drifts when the last third's median exceeds the first third's × this factor plus `driftSlackMs`. */
  driftFactor: number;
  driftSlackMs: number;
  /** Rows after warm-up needed before trends are judged (fewer: only "no fix lost" is judged). */
  minRowsForTrends: number;
}

export const SOAK_BOUNDS: SoakBounds = { rssSlopeMbPerMin: 1, heapSlopeMbPerMin: 0.5, driftFactor: 1.5, driftSlackMs: 5, minRowsForTrends: 9 };

/** Least-squares slope of y over x (NaN with fewer than two points). */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i]!;
    sy += ys[i]!;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** Median of the finite values (NaN when none). */
export function median(v: readonly number[]): number {
  const a = v.filter(Number.isFinite).sort((x, y) => x - y);
  if (a.length === 0) return NaN;
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}

/**
 * Judge a soak: rows after `warmupMin` give the memory slopes and the p99 drift; `accepted` and `stored`
 * (fixes the server acknowledged as accepted, and fixes read back from history after a flush) give the loss.
 */
export function judgeSoak(rows: readonly SoakRow[], warmupMin: number, accepted: number, stored: number, b: SoakBounds = SOAK_BOUNDS): SoakVerdict {
  const after = rows.filter((r) => r.atMin > warmupMin);
  const x = after.map((r) => r.atMin);
  const third = Math.max(1, Math.floor(after.length / 3));
  const firstRows = after.slice(0, third);
  const lastRows = after.slice(after.length - third);
  const visibleP99 = { first: median(firstRows.map((r) => r.fixToVisibleP99Ms)), last: median(lastRows.map((r) => r.fixToVisibleP99Ms)) };
  const dispatchP99 = { first: median(firstRows.map((r) => r.dispatchP99Ms)), last: median(lastRows.map((r) => r.dispatchP99Ms)) };
  const rssAnonSlopeMbPerMin = slope(x, after.map((r) => r.rssAnonMb));
  // The interval's heap floor where the rows have it (rows recorded before 2026-12-05 only have heapUsedMb).
  const heapSlopeMbPerMin = slope(x, after.map((r) => (r.heapFloorMb !== undefined && Number.isFinite(r.heapFloorMb) ? r.heapFloorMb : r.heapUsedMb)));
  const lost = Math.max(0, accepted - stored);
  const judged = after.length >= b.minRowsForTrends;
  const noDrift = (p: { first: number; last: number }): boolean => !(p.last > p.first * b.driftFactor + b.driftSlackMs);
  const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : String(v));
  const rules: SoakVerdict['rules'] = [{ rule: 'no accepted fix lost (accepted = stored)', ok: lost === 0 && stored >= accepted, value: `${accepted} accepted, ${stored} stored` }];
  if (judged) {
    rules.push(
      { rule: `anonymous RSS flat (slope ≤ ${b.rssSlopeMbPerMin} MB/min)`, ok: !(rssAnonSlopeMbPerMin > b.rssSlopeMbPerMin), value: `${f(rssAnonSlopeMbPerMin)} MB/min` },
      { rule: `JS heap flat (slope of each interval's lowest heap ≤ ${b.heapSlopeMbPerMin} MB/min)`, ok: !(heapSlopeMbPerMin > b.heapSlopeMbPerMin), value: `${f(heapSlopeMbPerMin)} MB/min` },
      { rule: `fix→visible p99 not drifting (last third ≤ first × ${b.driftFactor} + ${b.driftSlackMs} ms)`, ok: noDrift(visibleP99), value: `${f(visibleP99.first)} → ${f(visibleP99.last)} ms` },
      { rule: `dispatch p99 not drifting (last third ≤ first × ${b.driftFactor} + ${b.driftSlackMs} ms)`, ok: noDrift(dispatchP99), value: `${f(dispatchP99.first)} → ${f(dispatchP99.last)} ms` },
    );
  }
  return { rssAnonSlopeMbPerMin, heapSlopeMbPerMin, visibleP99, dispatchP99, accepted, stored, lost, rules, judged, pass: rules.every((r) => r.ok) };
}
