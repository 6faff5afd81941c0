// Cross-validation of the ETA models on trip rows: random k-fold and grouped hold-outs (time of day, weekday, area).
import { etaMetrics } from './eta-metrics.js';
import type { EtaMetrics } from './eta-metrics.js';
import { trainPredictor } from './eta-train.js';
import type { ModelKind, TrainOptions } from './eta-train.js';
import type { TripRow } from './trip-csv.js';
import { learnFrame } from './trip-features.js';
import { mulberry32 } from '../util/random.js';
export { mulberry32 };

export type CvScheme = 'kfold' | 'hour' | 'weekday' | 'area';

/** Hour bands of the report, local time (start hours). */
export const HOUR_BANDS: ReadonlyArray<[number, number, string]> = [
  [0, 6, '00-05'], [6, 10, '06-09'], [10, 16, '10-15'], [16, 20, '16-19'], [20, 24, '20-23'],
];

export function hourBand(hour: number): number {
  return HOUR_BANDS.findIndex(([lo, hi]) => hour >= lo && hour < hi);
}


/** Fold number of each row under `scheme`; k folds for kfold and area, natural groups otherwise. */
export function assignFolds(rows: readonly TripRow[], scheme: CvScheme, k = 5, seed = 1): Int32Array {
  const n = rows.length;
  const fold = new Int32Array(n);
  if (scheme === 'kfold') {
    const idx = Array.from({ length: n }, (_, i) => i);
    const rnd = mulberry32(seed);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    idx.forEach((row, pos) => (fold[row] = pos % k));
  } else if (scheme === 'hour') {
    rows.forEach((r, i) => (fold[i] = hourBand(r.hour)));
  } else if (scheme === 'weekday') {
    rows.forEach((r, i) => (fold[i] = r.weekday - 1));
  } else {
    // Spatial blocks: 2 km squares of the pickup, dealt to k folds at random, so a test trip's
    // neighbourhood is absent from its training data (a stand-in for "a part of town we never saw").
    const frame = learnFrame(rows);
    const rnd = mulberry32(seed);
    const blockFold = new Map<string, number>();
    rows.forEach((r, i) => {
      const key = `${Math.floor(frame.x(r.fromLng) / 2000)},${Math.floor(frame.y(r.fromLat) / 2000)}`;
      let f = blockFold.get(key);
      if (f === undefined) blockFold.set(key, (f = Math.floor(rnd() * k)));
      fold[i] = f;
    });
  }
  return fold;
}

export interface CvResult {
  scheme: CvScheme;
  model: ModelKind;
  folds: number;
  overall: EtaMetrics;
  byHour: Array<{ band: string } & EtaMetrics>;
  predictions: Float64Array;
}

/** Train on all folds but one, predict it, for every fold; traces of the held-out trips are never fed. */
export function crossValidate(rows: readonly TripRow[], model: ModelKind, opts: TrainOptions & { scheme?: CvScheme; k?: number; seed?: number }): CvResult {
  const scheme = opts.scheme ?? 'kfold';
  const fold = assignFolds(rows, scheme, opts.k ?? 5, opts.seed ?? 1);
  const pred = new Float64Array(rows.length);
  const ids = [...new Set(fold)].sort((a, b) => a - b);
  for (const f of ids) {
    const train = rows.filter((_, i) => fold[i] !== f);
    const testIdx = rows.map((_, i) => i).filter((i) => fold[i] === f);
    if (train.length === 0) continue;
    const exclude = new Set(testIdx.map((i) => rows[i]!.id));
    const p = trainPredictor(model, train, { ...opts, excludeTraceIds: exclude });
    for (const i of testIdx) pred[i] = p.predict(rows[i]!);
  }
  const actual = rows.map((r) => r.durationS);
  const byHour = HOUR_BANDS.map(([, , band], b) => {
    const idx = rows.map((_, i) => i).filter((i) => hourBand(rows[i]!.hour) === b);
    return { band, ...etaMetrics(idx.map((i) => pred[i]!), idx.map((i) => actual[i]!)) };
  }).filter((m) => m.n > 0);
  return { scheme, model, folds: ids.length, overall: etaMetrics(pred, actual), byHour, predictions: pred };
}
