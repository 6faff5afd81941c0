// Telemetry speed grid: metres and seconds driven per (cell, time-of-week band), decayed, read as the speed along a straight line.
import { EARTH_RADIUS_M } from '../fleet/geo.js';

const DEG = Math.PI / 180;

/** Time-of-week bands (local time): traffic regimes, coarse enough to fill from a modest fleet. */
export const N_BANDS = 8;
/** Pseudo-band holding every band's sums, for a cell's overall speed. */
const ALL = N_BANDS;
const SLOTS = N_BANDS + 1;

/** 0-4 weekdays: night 0-6, morning peak 7-9, day 10-15, evening peak 16-19, evening 20-23; 5-7 weekends: 0-8, 9-19, 20-23. */
export function bandOf(weekday: number, hour: number): number {
  if (weekday <= 5) return hour < 7 ? 0 : hour < 10 ? 1 : hour < 16 ? 2 : hour < 20 ? 3 : 4;
  return hour < 9 ? 5 : hour < 20 ? 6 : 7;
}

/**
 * Sums are kept per fold (source hashed into one of FOLDS) besides the total, so that a training trip's
 * feature can leave out the fold holding its own trace: otherwise a trip's own fixes would tell the model
 * its duration, and it would learn to trust the grid more than it deserves.
 */
export const FOLDS = 5;
const STRIDE = 2 * (FOLDS + 1); // [D, T] total, then [D, T] per fold

/** Speed, m/s, assumed where nothing was observed (urban door-to-door average). */
export const DEFAULT_SPEED_MPS = 8;
/** Prior strengths, seconds of observed driving: a cell needs minutes of data before it moves far from its prior. */
const K_GLOBAL_S = 600;
const K_BAND_S = 1800;
const K_CELL_S = 300;
const SAMPLES = 8;

export function foldOf(source: string): number {
  let h = 2166136261;
  for (let i = 0; i < source.length; i++) h = Math.imul(h ^ source.charCodeAt(i), 16777619);
  return (h >>> 0) % FOLDS;
}

export interface SpeedGridState {
  lat0: number; lng0: number; cellM: number; halfLifeMs: number; t0: number; latest: number;
  keys: number[]; sums: number[]; band: number[];
}

export class SpeedGrid {
  private readonly cells = new Map<number, Float64Array>();
  /** Per band (and ALL): STRIDE sums. */
  private readonly band = new Float64Array(SLOTS * STRIDE);
  private readonly kx: number;
  private readonly ky = EARTH_RADIUS_M * DEG;
  /** Decay: an observation at ts weighs 2^((ts - t0) / halfLife); reads divide by the weight of `latest`. */
  private t0 = NaN;
  private latest = NaN;
  private invScale = 1;

  constructor(readonly lat0: number, readonly lng0: number, readonly cellM = 500, readonly halfLifeMs = 28 * 86_400_000) {
    this.kx = EARTH_RADIUS_M * DEG * Math.cos(lat0 * DEG);
  }

  /** Seconds of driving observed in total (decayed). */
  get observedS(): number {
    return this.band[ALL * STRIDE + 1]! * this.invScale;
  }

  private cellIndex(lat: number, lng: number): number {
    const cx = Math.floor(((lng - this.lng0) * this.kx) / this.cellM) + 32768;
    const cy = Math.floor(((lat - this.lat0) * this.ky) / this.cellM) + 32768;
    return (cx * 65536 + cy) * SLOTS;
  }

  /** Add `metres` driven in `seconds` from (lat1,lng1) to (lat2,lng2) at `tsMs`, in `band`, from `fold`. */
  addSegment(fold: number, band: number, lat1: number, lng1: number, lat2: number, lng2: number, metres: number, seconds: number, tsMs: number): void {
    if (Number.isNaN(this.t0)) this.t0 = tsMs;
    if (!(tsMs <= this.latest)) {
      this.latest = tsMs;
      this.invScale = Math.pow(2, -(tsMs - this.t0) / this.halfLifeMs);
      if (this.invScale < 1e-150) this.rebase();
    }
    const w = Math.pow(2, (tsMs - this.t0) / this.halfLifeMs);
    // Spread long segments over the cells they cross, one piece per half cell.
    const pieces = Math.max(1, Math.ceil(metres / (this.cellM / 2)));
    const d = (metres * w) / pieces;
    const t = (seconds * w) / pieces;
    for (let k = 0; k < pieces; k++) {
      const f = (k + 0.5) / pieces;
      const ci = this.cellIndex(lat1 + (lat2 - lat1) * f, lng1 + (lng2 - lng1) * f);
      this.bump(this.cell(ci + band), fold, d, t);
      this.bump(this.cell(ci + ALL), fold, d, t);
    }
    this.bump(this.band.subarray(band * STRIDE, band * STRIDE + STRIDE), fold, metres * w, seconds * w);
    this.bump(this.band.subarray(ALL * STRIDE, ALL * STRIDE + STRIDE), fold, metres * w, seconds * w);
  }

  private cell(key: number): Float64Array {
    let a = this.cells.get(key);
    if (!a) this.cells.set(key, (a = new Float64Array(STRIDE)));
    return a;
  }

  private bump(a: Float64Array, fold: number, d: number, t: number): void {
    a[0]! += d; a[1]! += t;
    a[2 + 2 * fold]! += d; a[3 + 2 * fold]! += t;
  }

  /** Move t0 to `latest` so weights stay finite over years of uptime. */
  private rebase(): void {
    const s = this.invScale;
    for (const a of this.cells.values()) for (let i = 0; i < a.length; i++) a[i]! *= s;
    for (let i = 0; i < this.band.length; i++) this.band[i]! *= s;
    this.t0 = this.latest;
    this.invScale = 1;
  }

  /** Shrunk speed, m/s, from sums `a` at `off` (minus fold `ex`, -1 for none), towards `prior` with strength k seconds. */
  private speed(a: Float64Array, off: number, ex: number, prior: number, k: number): number {
    let d = a[off]!, t = a[off + 1]!;
    if (ex >= 0) {
      d -= a[off + 2 + 2 * ex]!; t -= a[off + 3 + 2 * ex]!;
    }
    const s = this.invScale;
    return (d * s + k * prior) / (Math.max(0, t) * s + k);
  }

  /**
   * log(m/s) of the expected speed along the straight line from A to B in `band`: harmonic mean over
   * 8 points of each cell's speed, shrunk towards the cell's all-week speed scaled to the band, itself
   * shrunk towards the city's band speed. `excludeFold` >= 0 leaves that fold's observations out. No allocation.
   */
  logSpeedAlong(fromLat: number, fromLng: number, toLat: number, toLng: number, band: number, excludeFold = -1): number {
    const vAll = this.speed(this.band, ALL * STRIDE, excludeFold, DEFAULT_SPEED_MPS, K_GLOBAL_S);
    const vBand = this.speed(this.band, band * STRIDE, excludeFold, vAll, K_BAND_S);
    if (this.cells.size === 0) return Math.log(vBand);
    let inv = 0;
    for (let k = 0; k < SAMPLES; k++) {
      const f = (k + 0.5) / SAMPLES;
      const ci = this.cellIndex(fromLat + (toLat - fromLat) * f, fromLng + (toLng - fromLng) * f);
      const all = this.cells.get(ci + ALL);
      let v = vBand;
      if (all) {
        v = this.speed(all, 0, excludeFold, vAll, K_CELL_S) * (vBand / vAll);
        const cb = this.cells.get(ci + band);
        if (cb) v = this.speed(cb, 0, excludeFold, v, K_CELL_S);
      }
      inv += 1 / v;
    }
    return Math.log(SAMPLES / inv);
  }

  toJSON(): SpeedGridState {
    const keys: number[] = [];
    const sums: number[] = [];
    for (const [k, a] of this.cells) {
      keys.push(k);
      for (const v of a) sums.push(v);
    }
    return { lat0: this.lat0, lng0: this.lng0, cellM: this.cellM, halfLifeMs: this.halfLifeMs, t0: this.t0, latest: this.latest, keys, sums, band: [...this.band] };
  }

  static fromJSON(s: SpeedGridState): SpeedGrid {
    const g = new SpeedGrid(s.lat0, s.lng0, s.cellM, s.halfLifeMs);
    g.t0 = s.t0 ?? NaN;
    g.latest = s.latest ?? NaN;
    g.invScale = Number.isNaN(g.latest) ? 1 : Math.pow(2, -(g.latest - g.t0) / g.halfLifeMs);
    s.keys.forEach((k, i) => g.cells.set(k, Float64Array.from(s.sums.slice(i * STRIDE, i * STRIDE + STRIDE))));
    g.band.set(s.band);
    return g;
  }
}
