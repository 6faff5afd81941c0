// Online corrections from completed trips: the recent mean log error of the model per time band and per (pickup area, band).
import { EARTH_RADIUS_M } from '../fleet/geo.js';
import { N_BANDS } from './speed-grid.js';

const DEG = Math.PI / 180;
/** Each new trip weighs 1, older ones fade by this factor per trip added to the same key (memory ~ 200 trips). */
const FADE = 0.995;
/** Shrinkage, in trips: an area needs a handful of trips before its correction means much. */
const K_BAND = 20;
const K_CELL = 10;
/** One odd trip (a round trip, a long wait) moves a key by at most this log error. */
const CLIP = 1.5;

export interface ResidualState { lat0: number; lng0: number; cellM: number; band: number[]; keys: number[]; sums: number[] }

export class ResidualTable {
  /** [sum, count] per band. */
  private readonly band = new Float64Array(2 * N_BANDS);
  private readonly cells = new Map<number, Float64Array>();
  private readonly kx: number;
  private readonly ky = EARTH_RADIUS_M * DEG;

  constructor(readonly lat0: number, readonly lng0: number, readonly cellM = 1000) {
    this.kx = EARTH_RADIUS_M * DEG * Math.cos(lat0 * DEG);
  }

  get size(): number {
    return this.cells.size;
  }

  private key(lat: number, lng: number, band: number): number {
    const cx = Math.floor(((lng - this.lng0) * this.kx) / this.cellM) + 32768;
    const cy = Math.floor(((lat - this.lat0) * this.ky) / this.cellM) + 32768;
    return (cx * 65536 + cy) * N_BANDS + band;
  }

  /** Record a trip from (lat, lng) in `band` whose log duration exceeded the model's by `residual`. */
  add(lat: number, lng: number, band: number, residual: number): void {
    const r = Math.max(-CLIP, Math.min(CLIP, residual));
    const b = this.band;
    b[2 * band] = b[2 * band]! * FADE + r;
    b[2 * band + 1] = b[2 * band + 1]! * FADE + 1;
    const k = this.key(lat, lng, band);
    let c = this.cells.get(k);
    if (!c) this.cells.set(k, (c = new Float64Array(2)));
    c[0] = c[0]! * FADE + r;
    c[1] = c[1]! * FADE + 1;
  }

  /** Correction to add to the model's log duration; 0 when nothing was recorded. No allocation. */
  correction(lat: number, lng: number, band: number): number {
    const cnt = this.band[2 * band + 1]!;
    if (cnt === 0) return 0;
    const cb = this.band[2 * band]! / (cnt + K_BAND);
    const c = this.cells.get(this.key(lat, lng, band));
    if (!c) return cb;
    // The area's own excess over the band's correction, shrunk separately.
    return cb + (c[0]! - c[1]! * cb) / (c[1]! + K_CELL);
  }

  clear(): void {
    this.band.fill(0);
    this.cells.clear();
  }

  toJSON(): ResidualState {
    const keys: number[] = [];
    const sums: number[] = [];
    for (const [k, a] of this.cells) keys.push(k), sums.push(a[0]!, a[1]!);
    return { lat0: this.lat0, lng0: this.lng0, cellM: this.cellM, band: [...this.band], keys, sums };
  }

  static fromJSON(s: ResidualState): ResidualTable {
    const t = new ResidualTable(s.lat0, s.lng0, s.cellM);
    t.band.set(s.band);
    s.keys.forEach((k, i) => t.cells.set(k, Float64Array.of(s.sums[2 * i]!, s.sums[2 * i + 1]!)));
    return t;
  }
}
