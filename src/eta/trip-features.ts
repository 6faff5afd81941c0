// A city's local frame (origin, street-grid rotation, landmarks) and the feature vector of a trip; allocation-free on the hot path.
import { EARTH_RADIUS_M } from '../fleet/geo.js';
import { landmarksNear } from './city-landmarks.js';
import type { Landmark } from './city-landmarks.js';
import type { TripRow } from './trip-csv.js';

const DEG = Math.PI / 180;

/**
 * Feature columns, in order. Distances in metres, log of metres; positions in metres in the rotated frame.
 * The first CORE columns, then per landmark log distance from pickup and from dropoff (see `landmarkNames`),
 * then the RICH columns: pickup and dropoff projected on axes at ROT_ANGLES (so trees can cut the city
 * along six directions, not only along and across the grid), the bearing and the trip's midpoint.
 */
export const CORE_FEATURES = [
  'log_dist', 'log_manhattan', 'log_along', 'log_across', 'frac_across',
  'from_a', 'from_s', 'to_a', 'to_s', 'hour', 'weekday', 'grid_log_speed',
] as const;
export const F_GRID = 11;
const N_CORE = CORE_FEATURES.length;
/** Axis angles (degrees from east, counter-clockwise) of the extra projections of pickup and dropoff. */
export const ROT_ANGLES = [0, 30, 60, 90, 120, 150] as const;
const N_RICH = 2 * ROT_ANGLES.length + 3;

/**
 * Local tangent-plane frame of a city: x east and y north in metres around (lat0, lng0), then rotated by
 * `angleDeg` so that the first axis runs along the main street grid (Manhattan's avenues run ~29° east of
 * north): the "Manhattan" distance |da| + |ds| in that frame is close to the distance driven on a grid.
 */
export class TripFrame {
  private readonly kx: number;
  private readonly ky = EARTH_RADIUS_M * DEG;
  private readonly cos: number;
  private readonly sin: number;
  private readonly rotCos = Float64Array.from(ROT_ANGLES, (a) => Math.cos(a * DEG));
  private readonly rotSin = Float64Array.from(ROT_ANGLES, (a) => Math.sin(a * DEG));
  /** Landmark positions, metres east and north of the origin. */
  private readonly lmX: Float64Array;
  private readonly lmY: Float64Array;
  /** Columns of the core and landmark features (what small cities train on). */
  readonly coreSize: number;
  /** Columns of the whole feature vector. */
  readonly size: number;

  constructor(readonly lat0: number, readonly lng0: number, readonly angleDeg: number, readonly landmarks: readonly Landmark[] = []) {
    this.kx = EARTH_RADIUS_M * DEG * Math.cos(lat0 * DEG);
    this.cos = Math.cos(angleDeg * DEG);
    this.sin = Math.sin(angleDeg * DEG);
    this.lmX = Float64Array.from(landmarks, (l) => this.x(l.lng));
    this.lmY = Float64Array.from(landmarks, (l) => this.y(l.lat));
    this.coreSize = N_CORE + 2 * landmarks.length;
    this.size = this.coreSize + N_RICH;
  }

  /** Names of the columns `fill` writes, in order. */
  featureNames(): string[] {
    return [
      ...CORE_FEATURES,
      ...this.landmarks.flatMap((l) => [`from_${l.name}`, `to_${l.name}`]),
      ...ROT_ANGLES.flatMap((a) => [`from_rot${a}`, `to_rot${a}`]), 'bearing', 'mid_x', 'mid_y',
    ];
  }

  /** Metres east of the origin. */
  x(lng: number): number {
    return (lng - this.lng0) * this.kx;
  }

  /** Metres north of the origin. */
  y(lat: number): number {
    return (lat - this.lat0) * this.ky;
  }

  /** Straight-line distance, metres (equirectangular around the origin: < 0.1 % off within a city). */
  distance(fromLat: number, fromLng: number, toLat: number, toLng: number): number {
    const dx = (toLng - fromLng) * this.kx;
    const dy = (toLat - fromLat) * this.ky;
    return Math.sqrt(dx * dx + dy * dy);
  }

  /**
   * Fill `out` (length >= size) with the trip's features; `gridLogSpeed` is log(m/s) of the
   * telemetry speed along the straight line. Returns the straight-line distance, metres.
   */
  fill(out: Float64Array, fromLat: number, fromLng: number, toLat: number, toLng: number, weekday: number, hour: number, gridLogSpeed: number): number {
    const fx = this.x(fromLng);
    const fy = this.y(fromLat);
    const tx = this.x(toLng);
    const ty = this.y(toLat);
    const c = this.cos;
    const s = this.sin;
    // Rotate so the first axis ("a", along the avenues) points angleDeg east of north.
    const fa = fx * s + fy * c;
    const fs = fx * c - fy * s;
    const ta = tx * s + ty * c;
    const ts = tx * c - ty * s;
    const da = Math.abs(ta - fa);
    const ds = Math.abs(ts - fs);
    const dx = tx - fx;
    const dy = ty - fy;
    const d = Math.sqrt(dx * dx + dy * dy);
    out[0] = Math.log(d + 1);
    out[1] = Math.log(da + ds + 1);
    out[2] = Math.log1p(da);
    out[3] = Math.log1p(ds);
    out[4] = ds / (da + ds + 1);
    out[5] = fa;
    out[6] = fs;
    out[7] = ta;
    out[8] = ts;
    out[9] = hour;
    out[10] = weekday;
    out[F_GRID] = gridLogSpeed;
    let k = N_CORE;
    const { lmX, lmY, rotCos, rotSin } = this;
    for (let j = 0; j < lmX.length; j++, k += 2) {
      out[k] = Math.log1p(Math.sqrt((fx - lmX[j]!) ** 2 + (fy - lmY[j]!) ** 2));
      out[k + 1] = Math.log1p(Math.sqrt((tx - lmX[j]!) ** 2 + (ty - lmY[j]!) ** 2));
    }
    for (let j = 0; j < rotCos.length; j++, k += 2) {
      out[k] = fx * rotCos[j]! + fy * rotSin[j]!;
      out[k + 1] = tx * rotCos[j]! + ty * rotSin[j]!;
    }
    out[k] = Math.atan2(dx, dy);
    out[k + 1] = (fx + tx) / 2;
    out[k + 2] = (fy + ty) / 2;
    return d;
  }

  toJSON(): TripFrameJson {
    return { lat0: this.lat0, lng0: this.lng0, angleDeg: this.angleDeg, landmarks: [...this.landmarks] };
  }

  static fromJSON(o: TripFrameJson): TripFrame {
    return new TripFrame(o.lat0, o.lng0, o.angleDeg, o.landmarks ?? []);
  }
}

export interface TripFrameJson { lat0: number; lng0: number; angleDeg: number; landmarks?: Landmark[] }

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[s.length >> 1]! : 0;
}

/**
 * Learn a city's frame from trips: origin at the median pickup, its known landmarks, and the grid angle
 * (0-85°, step 5°) whose Manhattan distance best explains log duration in a one-variable least-squares fit. On a city
 * without a grid every angle fits about as well and the choice does not matter.
 */
export function learnFrame(trips: readonly TripRow[]): TripFrame {
  if (trips.length === 0) return new TripFrame(0, 0, 0);
  const lat0 = median(trips.map((t) => t.fromLat));
  const lng0 = median(trips.map((t) => t.fromLng));
  const y = trips.map((t) => Math.log1p(t.durationS));
  const landmarks = landmarksNear(lat0, lng0);
  const buf = new Float64Array(new TripFrame(lat0, lng0, 0, landmarks).size);
  let best = 0;
  let bestSse = Infinity;
  for (let angle = 0; angle < 90; angle += 5) {
    const f = new TripFrame(lat0, lng0, angle, landmarks);
    let sx = 0, sy = 0, sxx = 0, sxy = 0;
    const n = trips.length;
    for (let i = 0; i < n; i++) {
      const t = trips[i]!;
      f.fill(buf, t.fromLat, t.fromLng, t.toLat, t.toLng, t.weekday, t.hour, 0);
      const x = buf[1]!;
      sx += x; sy += y[i]!; sxx += x * x; sxy += x * y[i]!;
    }
    const vx = sxx - (sx * sx) / n;
    const b = vx > 0 ? (sxy - (sx * sy) / n) / vx : 0;
    let syy = 0;
    for (const v of y) syy += v * v;
    const sse = syy - (sy * sy) / n - b * (sxy - (sx * sy) / n);
    if (sse < bestSse - 1e-9) {
      bestSse = sse;
      best = angle;
    }
  }
  return new TripFrame(lat0, lng0, best, landmarks);
}
