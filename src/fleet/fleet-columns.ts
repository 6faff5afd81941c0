// One city's driver slots: parallel typed-array columns (position, time, heading, speed, status, products), id ↔ slot map, free-slot stack.
import { DriverStatus } from './driver-status.js';
import type { DriverStatusCode } from './driver-status.js';

export function growF64(a: Float64Array, n: number): Float64Array {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}
export function growF32(a: Float32Array, n: number): Float32Array {
  const b = new Float32Array(n);
  b.set(a);
  return b;
}
export function growU8(a: Uint8Array, n: number): Uint8Array {
  const b = new Uint8Array(n);
  b.set(a);
  return b;
}
export function growU32(a: Uint32Array, n: number): Uint32Array {
  const b = new Uint32Array(n);
  b.set(a);
  return b;
}
export function growI32(a: Int32Array, n: number, fill = 0): Int32Array {
  const b = new Int32Array(n);
  if (fill !== 0) b.fill(fill, a.length);
  b.set(a);
  return b;
}

/**
 * Every driver of one city lives in a slot: an index into parallel typed arrays (no object per driver).
 * Slots of removed drivers are reused. The arrays are replaced when the fleet grows (doubling), so read
 * them through the getters each time instead of caching them across upserts.
 *
 * Positions are in degrees (lat, lng), times in ms since the epoch, heading in degrees and speed in m/s
 * (NaN when unknown). Subclasses keep their own per-slot arrays the same length through `grown()`.
 */
export abstract class FleetColumns {
  private cap: number;
  protected _lat: Float64Array;
  protected _lng: Float64Array;
  protected _ts: Float64Array;
  protected _hdg: Float32Array;
  protected _spd: Float32Array;
  protected _status: Uint8Array;
  protected _products: Uint32Array;
  protected _alive: Uint8Array;
  protected ids: string[] = [];
  protected readonly slotById = new Map<string, number>();
  /** Stack of freed slots; reused before slots that were never used. */
  private free: Int32Array;
  private freeTop = 0;
  /** Slots [0, highWater) have been used at least once; nothing above needs scanning. */
  private highWater = 0;
  private _size = 0;

  constructor(initialCapacity = 1024) {
    const cap = initialCapacity;
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`initialCapacity must be a positive integer, got ${cap}`);
    this.cap = cap;
    this._lat = new Float64Array(cap);
    this._lng = new Float64Array(cap);
    this._ts = new Float64Array(cap);
    this._hdg = new Float32Array(cap);
    this._spd = new Float32Array(cap);
    this._status = new Uint8Array(cap);
    this._products = new Uint32Array(cap);
    this._alive = new Uint8Array(cap);
    this.free = new Int32Array(cap);
  }

  /** Latitude by slot, degrees. Replaced on growth: do not cache across upserts. */
  get lat(): Float64Array { return this._lat; }
  /** Longitude by slot, degrees. */
  get lng(): Float64Array { return this._lng; }
  /** Time of the last fix by slot, ms since the epoch. */
  get ts(): Float64Array { return this._ts; }
  /** Heading by slot, degrees clockwise from north; NaN when unknown. */
  get hdg(): Float32Array { return this._hdg; }
  /** Speed by slot, m/s; NaN when unknown. */
  get spd(): Float32Array { return this._spd; }
  /** DriverStatusCode by slot. */
  get status(): Uint8Array { return this._status; }
  /** Product bits by slot (bit i = the city's product i, see CityProducts); 0 serves nothing here. */
  get products(): Uint32Array { return this._products; }
  /** 1 where the slot holds a driver. */
  get alive(): Uint8Array { return this._alive; }

  /** Number of live drivers. */
  get size(): number { return this._size; }
  /** Allocated slot count (grows by doubling). */
  get capacity(): number { return this.cap; }
  /** Exclusive upper bound of slots ever used: iterate [0, slotLimit) and check `alive`. */
  get slotLimit(): number { return this.highWater; }

  /** Slot of a driver, or -1. */
  slotOf(id: string): number {
    return this.slotById.get(id) ?? -1;
  }

  /** Driver id in a slot; '' for a free slot. */
  idAt(slot: number): string {
    return this.ids[slot] ?? '';
  }

  /** Call cb for every live slot, in slot order. cb may remove drivers. */
  forEachAlive(cb: (slot: number) => void): void {
    for (let s = 0; s < this.highWater; s++) {
      if (this._alive[s] === 1) cb(s);
    }
  }

  /** Give a new driver a slot (reused or fresh), alive with `status` and product bits; position columns are the caller's to fill. */
  protected addSlot(id: string, status: DriverStatusCode, products: number): number {
    const slot = this.allocSlot();
    this.slotById.set(id, slot);
    this.ids[slot] = id;
    this._alive[slot] = 1;
    this._status[slot] = status;
    this._products[slot] = products;
    this._size++;
    return slot;
  }

  /** Free a driver's slot for reuse; the slot, or -1 when the driver is unknown. */
  protected releaseSlot(id: string): number {
    const slot = this.slotById.get(id);
    if (slot === undefined) return -1;
    this.slotById.delete(id);
    this.ids[slot] = '';
    this._alive[slot] = 0;
    this._status[slot] = DriverStatus.offline;
    this._products[slot] = 0;
    this.free[this.freeTop++] = slot;
    this._size--;
    return slot;
  }

  /** The columns doubled to `n` slots: grow the subclass's per-slot arrays to match. */
  protected abstract grown(n: number): void;

  private allocSlot(): number {
    if (this.freeTop > 0) return this.free[--this.freeTop]!;
    if (this.highWater === this.cap) this.grow();
    return this.highWater++;
  }

  private grow(): void {
    const n = this.cap * 2;
    this._lat = growF64(this._lat, n);
    this._lng = growF64(this._lng, n);
    this._ts = growF64(this._ts, n);
    this._hdg = growF32(this._hdg, n);
    this._spd = growF32(this._spd, n);
    this._status = growU8(this._status, n);
    this._products = growU32(this._products, n);
    this._alive = growU8(this._alive, n);
    this.free = growI32(this.free, n);
    this.cap = n;
    this.grown(n);
  }
}
