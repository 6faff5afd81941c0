// A city's local frame (origin, street-grid rotation) and the feature vector of a trip; allocation-free on the hot path.
import { EARTH_RADIUS_M } from '../fleet/geo.js';
import type { TripRow } from './trip-csv.js';

const DEG = Math.PI / 180;

/** Feature columns, in order. Distances in metres, log of metres; positions in metres in the rotated frame. */
export const FEATURES = [
  'log_dist', 'log_manhattan', 'log_along', 'log_across', 'frac_across',
  'from_a', 'from_s', 'to_a', 'to_s', 'hour', 'weekday', 'grid_log_speed',
] as const;
export const N_FEATURES = FEATURES.length;
export const F_GRID = 11;

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

  constructor(readonly lat0: number, readonly lng0: number, readonly angleDeg: number) {
    this.kx = EARTH_RADIUS_M * DEG * Math.cos(lat0 * DEG);
    this.cos = Math.cos(angleDeg * DEG);
    this.sin = Math.sin(angleDeg * DEG);
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
   * Fill `out` (length >= N_FEATURES) with the trip's features; `gridLogSpeed` is log(m/s) of the
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
    return d;
  }

  toJSON(): { lat0: number; lng0: number; angleDeg: number } {
    return { lat0: this.lat0, lng0: this.lng0, angleDeg: this.angleDeg };
  }
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[s.length >> 1]! : 0;
}

/**
 * Learn a city's frame from trips: origin at the median pickup, and the grid angle (0-85°, step 5°)
 * whose Manhattan distance best explains log duration in a one-variable least-squares fit. On a city
 * without a grid every angle fits about as well and the choice does not matter.
 */
export function learnFrame(trips: readonly TripRow[]): TripFrame {
  if (trips.length === 0) return new TripFrame(0, 0, 0);
  const lat0 = median(trips.map((t) => t.fromLat));
  const lng0 = median(trips.map((t) => t.fromLng));
  const y = trips.map((t) => Math.log1p(t.durationS));
  const buf = new Float64Array(N_FEATURES);
  let best = 0;
  let bestSse = Infinity;
  for (let angle = 0; angle < 90; angle += 5) {
    const f = new TripFrame(lat0, lng0, angle);
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
  return new TripFrame(lat0, lng0, best);
}
