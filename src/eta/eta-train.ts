// Builds a trained predictor (baseline or learned) from trip rows and optional traces: shared by eta-eval and cross-validation.
import { haversineMetres } from '../fleet/geo.js';
import { LearnedEta } from './learned-eta.js';
import type { Trace } from './trace-csv.js';
import type { TripRow } from './trip-csv.js';

export type ModelKind = 'baseline' | 'learned';

/** Detour factor of the baseline (as in BaselineEta). */
const DETOUR = 1.3;

export interface TrainedPredictor {
  kind: ModelKind;
  /** Seconds for a trip starting at local weekday (1-7) and hour (0-23). */
  predict(r: TripRow): number;
  /** What was learned, for the report. */
  info: Record<string, number | string>;
  learned?: LearnedEta;
}

export interface TrainOptions {
  timeZone: string;
  /** GPS traces to feed first as telemetry. */
  traces?: readonly Trace[];
  /** Trace ids never to feed (the trips being predicted: their own trace would give their duration away). */
  excludeTraceIds?: ReadonlySet<string>;
}

/** The baseline's per-city speed, m/s: the one that minimises log error on the training trips (geometric mean). */
export function fitBaselineSpeed(train: readonly TripRow[]): number {
  let s = 0;
  let n = 0;
  for (const r of train) {
    const d = haversineMetres(r.fromLat, r.fromLng, r.toLat, r.toLng) * DETOUR;
    if (d > 0 && r.durationS > 0) {
      s += Math.log(d / r.durationS);
      n++;
    }
  }
  return n ? Math.exp(s / n) : 8.3;
}

export function trainPredictor(kind: ModelKind, train: readonly TripRow[], opts: TrainOptions): TrainedPredictor {
  if (kind === 'baseline') {
    const speed = fitBaselineSpeed(train);
    return {
      kind,
      predict: (r) => (haversineMetres(r.fromLat, r.fromLng, r.toLat, r.toLng) * DETOUR) / speed,
      info: { speed_mps: Math.round(speed * 100) / 100 },
    };
  }
  const m = new LearnedEta({ city: 'eval', timeZone: opts.timeZone, maxTrips: Math.max(50_000, train.length) });
  let fed = 0;
  for (const t of opts.traces ?? []) {
    if (opts.excludeTraceIds?.has(t.id)) continue;
    m.observeTrace(t);
    fed++;
  }
  m.addHistory(train);
  const fit = m.fit();
  return {
    kind,
    learned: m,
    predict: (r) => m.predictLocal(r.fromLat, r.fromLng, r.toLat, r.toLng, r.weekday, r.hour),
    info: { trips: fit.trips, trees: fit.trees, grid_angle_deg: fit.angleDeg, distance_exponent: Math.round(fit.slope * 1000) / 1000, traces_fed: fed, fit_ms: fit.ms },
  };
}
