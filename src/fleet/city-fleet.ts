// Live driver state for one city in flat typed arrays, with a periodically rebuilt kdbush snapshot for exact k-nearest queries.
import KDBush from 'kdbush';
import { haversineMetres, lngDeltaDegrees, metresToLatDegrees, metresToLngDegrees } from './geo.js';
import { DriverStatus, isStatusCode } from './driver-status.js';
import type { DriverStatusCode } from './driver-status.js';
import { NearestResult } from './nearest-result.js';
import { kdNearest } from './kd-nearest.js';

export { DriverStatus, statusName } from './driver-status.js';
export type { DriverStatusCode, DriverStatusName } from './driver-status.js';
export { NearestResult } from './nearest-result.js';

export interface CityFleetOptions {
  name: string;
  /** Slots allocated up front; the arrays double when full. Default 1024. */
  initialCapacity?: number;
}

/** A driver found by nearestArray (cold-path convenience shape). */
export interface NearestDriver {
  id: string;
  slot: number;
  metres: number;
}

// Widens every bounding box a little so float rounding at the circle's edge cannot drop a driver
// whose haversine distance is exactly maxMetres (1e-9 degrees is ~0.1 mm).
const BOX_EPSILON_DEG = 1e-9;

function growF64(a: Float64Array, n: number): Float64Array {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}
function growF32(a: Float32Array, n: number): Float32Array {
  const b = new Float32Array(n);
  b.set(a);
  return b;
}
function growU8(a: Uint8Array, n: number): Uint8Array {
  const b = new Uint8Array(n);
  b.set(a);
  return b;
}
function growI32(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

/**
 * Every driver of one city lives in a slot: an index into parallel typed arrays (no object per driver).
 * Slots of removed drivers are reused. The arrays are replaced when the fleet grows, so read them
 * through the getters each time instead of caching them across upserts.
 *
 * Positions are in degrees (lat, lng), times in ms since the epoch, heading in degrees and speed
 * in m/s (NaN when unknown), distances in metres.
 */
export class CityFleet {
  readonly name: string;

  private cap: number;
  private _lat: Float64Array;
  private _lng: Float64Array;
  private _ts: Float64Array;
  private _hdg: Float32Array;
  private _spd: Float32Array;
  private _status: Uint8Array;
  private _alive: Uint8Array;
  private ids: string[] = [];
  private readonly slotById = new Map<string, number>();
  /** Stack of freed slots; reused before slots that were never used. */
  private free: Int32Array;
  private freeTop = 0;
  /** Slots [0, highWater) have been used at least once; nothing above needs scanning. */
  private highWater = 0;
  private _size = 0;

  // ---- snapshot index state ----
  private index: KDBush | null = null;
  /** Slot of each kdbush item, by item id. */
  private indexSlots = new Int32Array(0);
  private indexCount = 0;
  /** Position of each slot when the snapshot was built (meaningful only where inSnap is 1). */
  private snapLat: Float64Array;
  private snapLng: Float64Array;
  /** 1 when the slot holds the same driver it held at the last rebuild; cleared on remove so reused slots are not trusted. */
  private inSnap: Uint8Array;
  /** 1 when the slot is already in `added`, so a slot removed and re-added is listed once. */
  private inAdded: Uint8Array;
  /** Slots allocated since the last rebuild; scanned linearly by nearest(). */
  private added: Int32Array;
  private addedCount = 0;
  private _maxDriftDeg = 0;
  private _changesSinceIndex = 0;

  constructor(opts: CityFleetOptions) {
    this.name = opts.name;
    const cap = opts.initialCapacity ?? 1024;
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`initialCapacity must be a positive integer, got ${cap}`);
    this.cap = cap;
    this._lat = new Float64Array(cap);
    this._lng = new Float64Array(cap);
    this._ts = new Float64Array(cap);
    this._hdg = new Float32Array(cap);
    this._spd = new Float32Array(cap);
    this._status = new Uint8Array(cap);
    this._alive = new Uint8Array(cap);
    this.free = new Int32Array(cap);
    this.snapLat = new Float64Array(cap);
    this.snapLng = new Float64Array(cap);
    this.inSnap = new Uint8Array(cap);
    this.inAdded = new Uint8Array(cap);
    this.added = new Int32Array(cap);
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
  /** 1 where the slot holds a driver. */
  get alive(): Uint8Array { return this._alive; }

  /** Number of live drivers. */
  get size(): number { return this._size; }
  /** Allocated slot count (grows by doubling). */
  get capacity(): number { return this.cap; }
  /** Exclusive upper bound of slots ever used: iterate [0, slotLimit) and check `alive`. */
  get slotLimit(): number { return this.highWater; }

  /** Largest position change, degrees (lat, or wrapped lng), of any snapshotted driver since the last rebuild. */
  get maxDriftDeg(): number { return this._maxDriftDeg; }
  /** Upserts and removals since the last rebuild. */
  get changesSinceIndex(): number { return this._changesSinceIndex; }
  /** Drivers added (or re-added) since the last rebuild; each is scanned linearly by nearest(). */
  get addedSinceIndex(): number { return this.addedCount; }
  /** True when a rebuild would change the snapshot. */
  get indexDirty(): boolean { return this._changesSinceIndex > 0; }

  /** Slot of a driver, or -1. */
  slotOf(id: string): number {
    return this.slotById.get(id) ?? -1;
  }

  /** Driver id in a slot; '' for a free slot. */
  idAt(slot: number): string {
    return this.ids[slot] ?? '';
  }

  /**
   * Create or move a driver. lat/lng degrees, tsMs ms since the epoch, hdg degrees, spd m/s (NaN = unknown).
   * `status` defaults to the driver's current one, or offline for a new driver. Returns its slot.
   * Throws RangeError on coordinates outside [-90, 90] / [-180, 180] (NaN included) because they would poison the index.
   */
  upsert(id: string, lat: number, lng: number, tsMs: number, hdg = NaN, spd = NaN, status?: DriverStatusCode): number {
    if (!(lat >= -90 && lat <= 90) || !(lng >= -180 && lng <= 180)) {
      throw new RangeError(`driver ${id}: position (${lat}, ${lng}) is not a valid lat/lng in degrees`);
    }
    if (status !== undefined && !isStatusCode(status)) throw new RangeError(`driver ${id}: bad status code ${String(status)}`);
    let slot = this.slotById.get(id);
    if (slot === undefined) {
      slot = this.allocSlot();
      this.slotById.set(id, slot);
      this.ids[slot] = id;
      this._alive[slot] = 1;
      this._status[slot] = status ?? DriverStatus.offline;
      this._size++;
      if (this.inAdded[slot] === 0) {
        this.inAdded[slot] = 1;
        this.added[this.addedCount++] = slot;
      }
    } else {
      if (this.inSnap[slot] === 1) {
        // Track how far any snapshotted driver has wandered so nearest() can widen its box by exactly that much.
        const dLat = Math.abs(lat - this.snapLat[slot]!);
        const dLng = lngDeltaDegrees(lng, this.snapLng[slot]!);
        const d = dLat > dLng ? dLat : dLng;
        if (d > this._maxDriftDeg) this._maxDriftDeg = d;
      }
      if (status !== undefined) this._status[slot] = status;
    }
    this._lat[slot] = lat;
    this._lng[slot] = lng;
    this._ts[slot] = tsMs;
    this._hdg[slot] = hdg;
    this._spd[slot] = spd;
    this._changesSinceIndex++;
    return slot;
  }

  /** Change a driver's status; false when the driver is unknown. Does not dirty the index. */
  setStatus(id: string, status: DriverStatusCode): boolean {
    if (!isStatusCode(status)) throw new RangeError(`driver ${id}: bad status code ${String(status)}`);
    const slot = this.slotById.get(id);
    if (slot === undefined) return false;
    this._status[slot] = status;
    return true;
  }

  /** Remove a driver; false when unknown. Its slot is freed for reuse. */
  remove(id: string): boolean {
    const slot = this.slotById.get(id);
    if (slot === undefined) return false;
    this.slotById.delete(id);
    this.ids[slot] = '';
    this._alive[slot] = 0;
    this._status[slot] = DriverStatus.offline;
    // The kdbush item for this slot now describes nobody, even if the slot is reused before the next rebuild.
    this.inSnap[slot] = 0;
    this.free[this.freeTop++] = slot;
    this._size--;
    this._changesSinceIndex++;
    return true;
  }

  /** Call cb for every live slot, in slot order. cb may remove drivers. */
  forEachAlive(cb: (slot: number) => void): void {
    for (let s = 0; s < this.highWater; s++) {
      if (this._alive[s] === 1) cb(s);
    }
  }

  /** Remove drivers whose last fix is older than nowMs - maxSilenceMs (both ms); returns their ids. */
  expire(nowMs: number, maxSilenceMs: number): string[] {
    const cutoff = nowMs - maxSilenceMs;
    const gone: string[] = [];
    for (let s = 0; s < this.highWater; s++) {
      if (this._alive[s] === 1 && this._ts[s]! < cutoff) gone.push(this.ids[s]!);
    }
    for (const id of gone) this.remove(id);
    return gone;
  }

  /**
   * Rebuild the kdbush snapshot over all live drivers (x = lng, y = lat) and reset drift tracking.
   * O(n log n); meant for a timer, never per upsert.
   */
  rebuildIndex(): void {
    const n = this._size;
    if (this.indexSlots.length < n) this.indexSlots = new Int32Array(n + (n >> 2));
    const kd = n > 0 ? new KDBush(n) : null;
    let i = 0;
    for (let s = 0; s < this.highWater; s++) {
      if (this._alive[s] === 1) {
        const la = this._lat[s]!;
        const ln = this._lng[s]!;
        kd!.add(ln, la);
        this.indexSlots[i++] = s;
        this.snapLat[s] = la;
        this.snapLng[s] = ln;
        this.inSnap[s] = 1;
      } else {
        this.inSnap[s] = 0;
      }
    }
    if (kd) kd.finish();
    this.index = kd;
    this.indexCount = i;
    for (let j = 0; j < this.addedCount; j++) this.inAdded[this.added[j]!] = 0;
    this.addedCount = 0;
    this._maxDriftDeg = 0;
    this._changesSinceIndex = 0;
  }

  /** Number of drivers in the current snapshot. */
  get indexedCount(): number {
    return this.indexCount;
  }

  /**
   * Up to k live drivers within maxMetres of (lat, lng) degrees for which filter(slot) is true,
   * nearest first by haversine over LIVE positions, written into `out` (k <= out.capacity).
   * Exact despite a stale snapshot: the snapshot box is widened by maxDriftDeg and drivers added
   * since the rebuild are scanned linearly. maxMetres may be Infinity. Returns out.count.
   */
  nearest(lat: number, lng: number, k: number, maxMetres: number, filter: ((slot: number) => boolean) | null, out: NearestResult): number {
    out.count = 0;
    if (k > out.capacity) throw new RangeError(`k=${k} exceeds NearestResult capacity ${out.capacity}`);
    if (!(k >= 1) || !(maxMetres >= 0) || !(lat >= -90 && lat <= 90) || !Number.isFinite(lng)) return 0;
    k = Math.floor(k); // a fractional k would index metres[k - 1] off the end
    if (lng < -180 || lng > 180) lng = ((((lng + 180) % 360) + 360) % 360) - 180;

    if (this.index !== null) {
      const drift = this._maxDriftDeg + BOX_EPSILON_DEG;
      const latHalf = metresToLatDegrees(maxMetres) + drift;
      const minLat = lat - latHalf < -90 ? -90 : lat - latHalf;
      const maxLat = lat + latHalf > 90 ? 90 : lat + latHalf;
      const lngHalf = metresToLngDegrees(maxMetres, lat) + drift;
      if (lngHalf >= 180) {
        this.scanIndexBox(-180, minLat, 180, maxLat, lat, lng, k, maxMetres, filter, out);
      } else {
        const west = lng - lngHalf;
        const east = lng + lngHalf;
        // A box crossing ±180 becomes two disjoint boxes, so no driver is visited twice.
        if (west < -180) {
          this.scanIndexBox(west + 360, minLat, 180, maxLat, lat, lng, k, maxMetres, filter, out);
          this.scanIndexBox(-180, minLat, east, maxLat, lat, lng, k, maxMetres, filter, out);
        } else if (east > 180) {
          this.scanIndexBox(west, minLat, 180, maxLat, lat, lng, k, maxMetres, filter, out);
          this.scanIndexBox(-180, minLat, east - 360, maxLat, lat, lng, k, maxMetres, filter, out);
        } else {
          this.scanIndexBox(west, minLat, east, maxLat, lat, lng, k, maxMetres, filter, out);
        }
      }
    }

    for (let j = 0; j < this.addedCount; j++) {
      const s = this.added[j]!;
      // inSnap is never 1 here (a rebuild empties `added`), but checking it keeps the no-duplicate rule local.
      if (this._alive[s] === 1 && this.inSnap[s] === 0) this.consider(s, lat, lng, k, maxMetres, filter, out);
    }
    return out.count;
  }

  /** nearest() returning plain objects; allocates, so for cold paths (admin, tests). */
  nearestArray(lat: number, lng: number, k: number, maxMetres: number, filter: ((slot: number) => boolean) | null = null): NearestDriver[] {
    if (!(k >= 1)) return [];
    const res = new NearestResult(k);
    const n = this.nearest(lat, lng, k, maxMetres, filter, res);
    const outArr: NearestDriver[] = new Array<NearestDriver>(n);
    for (let i = 0; i < n; i++) {
      const slot = res.slots[i]!;
      outArr[i] = { id: this.ids[slot]!, slot, metres: res.metres[i]! };
    }
    return outArr;
  }

  private scanIndexBox(
    minLng: number, minLat: number, maxLng: number, maxLat: number,
    lat: number, lng: number, k: number, maxMetres: number,
    filter: ((slot: number) => boolean) | null, out: NearestResult,
  ): void {
    this.query.lat = lat;
    this.query.lng = lng;
    this.query.k = k;
    this.query.maxMetres = maxMetres;
    this.query.drift = this._maxDriftDeg + BOX_EPSILON_DEG;
    this.query.filter = filter;
    kdNearest(this.index!, minLng, minLat, maxLng, maxLat, this.query, this.slotOfItem, this._lat, this._lng, out);
    this.query.filter = null;
  }

  /** Reused query record for kdNearest (no allocation per query). */
  private readonly query = { lat: 0, lng: 0, k: 1, maxMetres: 0, drift: 0, filter: null as ((slot: number) => boolean) | null };

  /** Index item → slot, or -1 for a driver removed since the rebuild (its slot may hold someone new, found via `added`). */
  private readonly slotOfItem = (item: number): number => {
    const s = this.indexSlots[item]!;
    return this.inSnap[s] === 1 ? s : -1;
  };

  private consider(
    s: number, lat: number, lng: number, k: number, maxMetres: number,
    filter: ((slot: number) => boolean) | null, out: NearestResult,
  ): void {
    const d = haversineMetres(lat, lng, this._lat[s]!, this._lng[s]!);
    // Distance test first and filter last: the filter is caller code of unknown cost.
    if (d <= maxMetres && out.wouldAccept(d, k) && (filter === null || filter(s))) out.insert(s, d, k);
  }

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
    this._alive = growU8(this._alive, n);
    this.free = growI32(this.free, n);
    this.snapLat = growF64(this.snapLat, n);
    this.snapLng = growF64(this.snapLng, n);
    this.inSnap = growU8(this.inSnap, n);
    this.inAdded = growU8(this.inAdded, n);
    this.added = growI32(this.added, n);
    this.cap = n;
  }
}
