// The experiments report (GET /v1/experiments): per arm counts, means, p50/p90, and Welch intervals of the differences over windows.
import { welchInterval } from '../util/welch.js';
import { COUNTS, HIST_BUCKETS, MEASURES, histogramQuantile } from './experiment-windows.js';
import type { Count, Measure, WindowReader } from './experiment-windows.js';
import type { TrackedExperiment } from './experiment-outcomes.js';

/** Rates computed per window from its counts (numerator / denominator). */
const RATES = {
  fulfilment_rate: ['fulfilled', 'jobs'],
  rider_cancel_rate: ['rider_cancelled', 'jobs'],
  driver_utilisation: ['busy_samples', 'online_samples'],
} as const satisfies Record<string, readonly [Count, Count]>;
type Rate = keyof typeof RATES;

const C = Object.fromEntries(COUNTS.map((c, i) => [c, i])) as Record<Count, number>;

export interface MeasureSummary {
  /** Observations (jobs) over the kept windows of the arm. */
  n: number;
  mean: number | null;
  /** Quantiles from a log histogram: within ±10% of the exact value. */
  p50: number | null;
  p90: number | null;
}

export interface ArmReport {
  name: string;
  policy: string;
  params: Record<string, number>;
  /** Kept windows this arm ran (with at least one ended job or utilisation sample). */
  windows: number;
  /** Ended jobs created in this arm's windows. */
  jobs: number;
  fulfilled: number;
  rider_cancelled: number;
  /** Pooled over the arm's windows: fulfilled / jobs, rider_cancelled / jobs, busy / online driver samples. */
  rates: Record<Rate, number | null>;
  measures: Record<Measure, MeasureSummary>;
}

/** mean(arm) − mean(baseline) of one outcome over windows, with its 95% Welch interval; null fields when too few windows. */
export interface Difference {
  diff: number | null;
  ci95: [number, number] | null;
  df: number | null;
  /** Windows of the baseline and of the arm that had this outcome (each window's mean is one observation). */
  windows: [number, number];
}

export interface ExperimentReport {
  city: string;
  name: string;
  window_ms: number;
  seed: number;
  start_ts: number | null;
  end_ts: number | null;
  /** The arm running now, or null when the experiment is not running. */
  current_arm: string | null;
  arms: ArmReport[];
  /** Every other arm against the first (the baseline). */
  comparisons: Array<{ arm: string; baseline: string; outcomes: Record<Rate | Measure, Difference> }>;
}

/** Per arm, the per-window values of each outcome (one number per window that has it). */
type WindowValues = Record<Rate | Measure, number[]>;

/** The report of one experiment at `now` (ms). */
export function experimentReport(exp: TrackedExperiment, now: number): ExperimentReport {
  const s = exp.schedule;
  const arms = s.def.arms;
  const perArm = arms.map(() => ({
    windows: 0, counts: new Float64Array(COUNTS.length), n: new Float64Array(MEASURES.length), sum: new Float64Array(MEASURES.length),
    hist: MEASURES.map(() => new Float64Array(HIST_BUCKETS)), values: emptyValues(),
  }));
  exp.windows.forEach((w, r) => {
    const a = perArm[s.armOfWindow(w)]!;
    a.windows++;
    for (let c = 0; c < COUNTS.length; c++) a.counts[c] += r.count(c);
    MEASURES.forEach((_, m) => {
      const n = r.n(m);
      if (n === 0) return;
      a.n[m] += n;
      a.sum[m] += r.sum(m);
      r.addHistogram(m, a.hist[m]!);
      a.values[MEASURES[m]!].push(r.sum(m) / n);
    });
    for (const rate of Object.keys(RATES) as Rate[]) {
      const v = windowRate(r, rate);
      if (v !== null) a.values[rate].push(v);
    }
  });
  const armReports: ArmReport[] = arms.map((def, i) => {
    const a = perArm[i]!;
    const pooled = (rate: Rate): number | null => {
      const [num, den] = RATES[rate];
      return a.counts[C[den]]! > 0 ? a.counts[C[num]]! / a.counts[C[den]]! : null;
    };
    const measures = Object.fromEntries(MEASURES.map((name, m) => {
      const n = a.n[m]!;
      const summary: MeasureSummary = n === 0 ? { n, mean: null, p50: null, p90: null } : {
        n, mean: a.sum[m]! / n, p50: histogramQuantile(a.hist[m]!, n, 0.5), p90: histogramQuantile(a.hist[m]!, n, 0.9),
      };
      return [name, summary];
    })) as Record<Measure, MeasureSummary>;
    return {
      name: def.name, policy: def.policy, params: { ...(def.params ?? {}) }, windows: a.windows,
      jobs: a.counts[C.jobs]!, fulfilled: a.counts[C.fulfilled]!, rider_cancelled: a.counts[C.rider_cancelled]!,
      rates: { fulfilment_rate: pooled('fulfilment_rate'), rider_cancel_rate: pooled('rider_cancel_rate'), driver_utilisation: pooled('driver_utilisation') },
      measures,
    };
  });
  const base = perArm[0]!.values;
  const comparisons = arms.slice(1).map((def, j) => {
    const vals = perArm[j + 1]!.values;
    const outcomes = Object.fromEntries((Object.keys(base) as Array<Rate | Measure>).map((k) => [k, difference(base[k], vals[k])])) as Record<Rate | Measure, Difference>;
    return { arm: def.name, baseline: arms[0]!.name, outcomes };
  });
  const armNow = s.armAt(now);
  return {
    city: s.city, name: s.name, window_ms: s.def.windowMs, seed: s.def.seed, start_ts: s.def.startMs ?? null, end_ts: s.def.endMs ?? null,
    current_arm: armNow >= 0 ? arms[armNow]!.name : null, arms: armReports, comparisons,
  };
}

function emptyValues(): WindowValues {
  const v = {} as WindowValues;
  for (const k of [...Object.keys(RATES), ...MEASURES] as Array<Rate | Measure>) v[k] = [];
  return v;
}

function windowRate(r: WindowReader, rate: Rate): number | null {
  const [num, den] = RATES[rate];
  const d = r.count(C[den]);
  return d > 0 ? r.count(C[num]) / d : null;
}

/** The window-level Welch interval of mean(b) − mean(a). */
export function difference(a: readonly number[], b: readonly number[]): Difference {
  const w = welchInterval(a, b, 0.95);
  return { diff: w?.diff ?? null, ci95: w ? [w.lo, w.hi] : null, df: w && Number.isFinite(w.df) ? w.df : null, windows: [a.length, b.length] };
}
