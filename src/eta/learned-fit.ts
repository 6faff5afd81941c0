// The learned ETA's training step as a pure function of plain data, so it runs the same on the event loop or on a worker thread.
import { GbmModel, trainGbmEarlyStopped } from './gbm.js';
import type { GbmJson, GbmParams } from './gbm.js';
import { SpeedGrid, bandOf } from './speed-grid.js';
import type { SpeedGridState } from './speed-grid.js';
import { tripRowsOf } from './trip-store.js';
import { learnFrame } from './trip-features.js';
import type { TripFrame, TripFrameJson } from './trip-features.js';

/** Offset, metres, in the distance term log(d + D0): keeps short trips' time from vanishing (pickup, first/last turns). */
export const D0_M = 300;
/** Before the first fit: door-to-door speed, m/s, and detour factor (as the baseline). */
export const PRIOR_SPEED_MPS = 8.3;
export const PRIOR_DETOUR = 1.3;
/**
 * Fewer trips than this and deep trees overfit: such a city gets stumps (depth 1, an additive model) over
 * the core and landmark features only (Porto, 678 trips, 5-fold CV: 0.435 so, 0.440 with every feature,
 * 0.444 with depth 2).
 */
export const SMALL_DATA = 2000;
/** Below this many trips the model stays on the prior. */
export const MIN_FIT_TRIPS = 30;

/** Everything a fit reads: the stored trips (TripStore columns), the telemetry grid and the tree parameters. */
export interface FitInput {
  /** `TRIP_COLUMNS` numbers per trip, as `TripStore.columns()` gives them. */
  trips: Float64Array;
  grid: SpeedGridState | null;
  params: GbmParams;
}

/** A fitted model as plain data (structured-clone safe), or `null` parts when there were too few trips. */
export interface FitOutput {
  trips: number;
  frame: TripFrameJson | null;
  gbm: GbmJson | null;
  intercept: number;
  slope: number;
  angleDeg: number;
  ms: number;
}

/** log of the telemetry speed (m/s) along a straight line, leaving out `fold`'s own fixes; the prior speed without telemetry. */
export function gridLogSpeed(
  grid: SpeedGrid | null, fromLat: number, fromLng: number, toLat: number, toLng: number, weekday: number, hour: number, fold: number,
): number {
  return grid ? grid.logSpeedAlong(fromLat, fromLng, toLat, toLng, bandOf(weekday, hour), fold) : Math.log(PRIOR_SPEED_MPS);
}

/**
 * Fit the distance term and the trees on every trip in `input` (~3 s per 6,000 NYC trips on one core; the
 * caller decides which thread pays). Deterministic: same input, same output. `grid` may be passed live
 * (the main thread's own grid) to skip rebuilding it from `input.grid`.
 */
export function fitLearned(input: FitInput, grid: SpeedGrid | null = input.grid ? SpeedGrid.fromJSON(input.grid) : null): FitOutput {
  const t0 = Date.now();
  const rows = tripRowsOf(input.trips);
  const n = rows.length;
  if (n < MIN_FIT_TRIPS) return { trips: n, frame: null, gbm: null, intercept: 0, slope: 0, angleDeg: 0, ms: Date.now() - t0 };
  const frame: TripFrame = learnFrame(rows);
  const small = n < SMALL_DATA;
  // The trees read the first m columns of the feature vector (core + landmarks when data is scarce).
  const m = small ? frame.coreSize : frame.size;
  const X = new Float64Array(n * m);
  const y = new Float64Array(n);
  const L = new Float64Array(n);
  const row = new Float64Array(frame.size);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    const g = gridLogSpeed(grid, r.fromLat, r.fromLng, r.toLat, r.toLng, r.weekday, r.hour, r.fold);
    const d = frame.fill(row, r.fromLat, r.fromLng, r.toLat, r.toLng, r.weekday, r.hour, g);
    X.set(row.subarray(0, m), i * m);
    y[i] = Math.log1p(r.durationS);
    L[i] = Math.log(d + D0_M);
  }
  // Least squares of log duration on log(d + D0); the trees then fit what distance does not explain.
  let sl = 0, sy = 0, sll = 0, sly = 0;
  for (let i = 0; i < n; i++) {
    sl += L[i]!; sy += y[i]!; sll += L[i]! * L[i]!; sly += L[i]! * y[i]!;
  }
  const v = sll - (sl * sl) / n;
  // Clamped so the time always grows with distance (ranking needs it) and never faster than linearly.
  const slope = Math.min(1.2, Math.max(0.05, v > 0 ? (sly - (sl * sy) / n) / v : 0.5));
  const intercept = (sy - slope * sl) / n;
  for (let i = 0; i < n; i++) y[i] = y[i]! - intercept - slope * L[i]!;
  const params = small ? { ...input.params, depth: 1 } : input.params;
  const gbm: GbmModel = trainGbmEarlyStopped(X, n, m, y, params);
  return { trips: n, frame: frame.toJSON(), gbm: gbm.toJSON(), intercept, slope, angleDeg: frame.angleDeg, ms: Date.now() - t0 };
}

