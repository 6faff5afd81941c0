// Bounded columnar store of training trips (newest kept when full), the learned model's memory of real trips.
import type { TripRow } from './trip-csv.js';

/** Columns per trip: fromLat, fromLng, toLat, toLng (degrees), weekday (ISO), hour (local), duration (s), fold of its source. */
const W = 8;
/** Numbers per trip in `TripStore.columns()`. */
export const TRIP_COLUMNS = W;

/** The trips of a `columns()` block as rows. */
export function tripRowsOf(d: Float64Array): Array<TripRow & { fold: number }> {
  const out = [];
  for (let o = 0; o + W <= d.length; o += W) {
    out.push({ id: '', fromLat: d[o]!, fromLng: d[o + 1]!, toLat: d[o + 2]!, toLng: d[o + 3]!, weekday: d[o + 4]!, hour: d[o + 5]!, durationS: d[o + 6]!, fold: d[o + 7]! });
  }
  return out;
}

export class TripStore {
  private data: Float64Array;
  private head = 0; // next write position once full (ring)
  private count = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error('trip store capacity must be >= 1');
    this.data = new Float64Array(W * Math.min(capacity, 1024));
  }

  get size(): number {
    return this.count;
  }

  add(fromLat: number, fromLng: number, toLat: number, toLng: number, weekday: number, hour: number, durationS: number, fold: number): void {
    let slot: number;
    if (this.count < this.capacity) {
      if (W * (this.count + 1) > this.data.length) {
        const grown = new Float64Array(Math.min(this.capacity * W, this.data.length * 2));
        grown.set(this.data);
        this.data = grown;
      }
      slot = this.count++;
    } else {
      slot = this.head;
      this.head = (this.head + 1) % this.capacity;
    }
    this.data.set([fromLat, fromLng, toLat, toLng, weekday, hour, durationS, fold], slot * W);
  }

  /** A copy of every stored trip, `TRIP_COLUMNS` numbers each (order is not meaningful once the store has wrapped). */
  columns(): Float64Array {
    return this.data.slice(0, this.count * W);
  }

  rows(): Array<TripRow & { fold: number }> {
    return tripRowsOf(this.data.subarray(0, this.count * W));
  }

  toJSON(): { capacity: number; head: number; data: number[] } {
    return { capacity: this.capacity, head: this.head, data: Array.from(this.data.subarray(0, this.count * W)) };
  }

  static fromJSON(s: { capacity: number; head: number; data: number[] }, capacity = s.capacity): TripStore {
    const t = new TripStore(capacity);
    const n = Math.floor(s.data.length / W);
    // Replay oldest first so a smaller capacity keeps the newest trips.
    const start = n === s.capacity ? s.head : 0;
    for (let k = 0; k < n; k++) {
      const o = ((start + k) % n) * W;
      t.add(s.data[o]!, s.data[o + 1]!, s.data[o + 2]!, s.data[o + 3]!, s.data[o + 4]!, s.data[o + 5]!, s.data[o + 6]!, s.data[o + 7]!);
    }
    return t;
  }
}
