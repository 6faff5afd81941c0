// Live driver state for one city in flat typed arrays, with a periodically rebuilt kdbush snapshot for exact k-nearest queries.
import KDBush from 'kdbush';
import { haversineMetres, lngDeltaDegrees } from './geo.js';
import { DriverStatus, isStatusCode } from './driver-status.js';
import type { DriverStatusCode } from './driver-status.js';
import { NearestResult } from './nearest-result.js';
import { buildSplits, fillPoints, KdQuery, kdNearest, latGapKey, liveChordKey, metresOfChordKey } from './kd-nearest.js';
import type { KdSnapshot } from './kd-nearest.js';

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

// Widens every cell bound a little so float rounding at the circle's edge cannot drop a driver
// whose haversine distance is exactly maxMetres (1e-9 degrees is ~0.1 mm).
const BOX_EPSILON_DEG = 1e-9;
/** kdbush leaf size. Leaves end up between nodeSize / 2 and nodeSize points: ~23 for 100k drivers, where
 * the first leaf alone usually holds the 10 nearest; 16 (leaves of ~11) and 64 (~47) measured slower. */
const NODE_SIZE = 32;

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
function growI32(a: Int32Array, n: number, fill = 0): Int32Array {
  const b = new Int32Array(n);
  if (fill !== 0) b.fill(fill, a.length);
  b.set(a);
  return b;
}

const EMPTY_SNAPSHOT: KdSnapshot = { coords: new Float64Array(0), nodeSize: NODE_SIZE, n: 0, pts: new Float64Array(0), splits: new Float64Array(0) };

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
  /** What kdNearest reads: kdbush's sorted coords plus unit vectors and slots in the same (kd) order. */
  private snap: KdSnapshot = EMPTY_SNAPSHOT;
  /** Backing buffer of snap.pts, reused across rebuilds (it may be longer than the snapshot). */
  private ptsBuf = new Float64Array(0);
  private splitsBuf: Float64Array = new Float64Array(0);
  private indexCount = 0;
  /**
   * kd position of each slot in the snapshot, or -1: the slot was not indexed, or its driver left since
   * (cleared on remove so a reused slot is not trusted). The snapshot position itself is snap.coords there.
   */
  private posOf: Int32Array;
  /** 1 when the slot is already in `added`, so a slot removed and re-added is listed once. */
  private inAdded: Uint8Array;
  /** Slots allocated since the last rebuild; scanned linearly by nearest(). */
  private added: Int32Array;
  private addedCount = 0;
  private _maxDriftDeg = 0;
  private _changesSinceIndex = 0;
  // ---- off-thread rebuild in flight (see beginAsyncRebuild) ----
  /** Ticket of the build in flight, 0 when none; a result with another ticket is stale. */
  private pendingTicket = 0;
  private ticketSeq = 0;
  private changesAtBegin = 0;
  /** 1 for slots whose driver left while a build was in flight (their snapshot entries describe nobody). */
  private goneDuring: Uint8Array;
  private goneList: number[] = [];

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
    this.posOf = new Int32Array(cap).fill(-1);
    this.inAdded = new Uint8Array(cap);
    this.added = new Int32Array(cap);
    this.goneDuring = new Uint8Array(cap);
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
      const p = this.posOf[slot]!;
      if (p >= 0) {
        const c = this.snap.coords;
        const sLng = c[2 * p]!;
        const sLat = c[2 * p + 1]!;
        if (lat !== sLat || lng !== sLng) {
          // Track how far any snapshotted driver has wandered so nearest() can widen its cells by exactly that much,
          // and void its unit vector: the search then ranks it by its live position.
          const dLat = Math.abs(lat - sLat);
          const dLng = lngDeltaDegrees(lng, sLng);
          const d = dLat > dLng ? dLat : dLng;
          if (d > this._maxDriftDeg) this._maxDriftDeg = d;
          this.snap.pts[4 * p] = NaN;
        }
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
    const p = this.posOf[slot]!;
    if (p >= 0) {
      this.snap.pts[4 * p] = NaN;
      this.snap.pts[4 * p + 3] = -1;
      this.posOf[slot] = -1;
    }
    if (this.pendingTicket !== 0 && this.goneDuring[slot] === 0) {
      this.goneDuring[slot] = 1;
      this.goneList.push(slot);
    }
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
    this.cancelAsyncRebuild();
    const n = this._size;
    if (this.ptsBuf.length < 4 * n) {
      // A little headroom so a growing fleet does not reallocate on every rebuild (pts is 32 B a driver,
      // so the headroom is kept small: it counts against the per-driver memory budget).
      this.ptsBuf = new Float64Array(4 * (n + (n >> 4)));
    }
    const pts = this.ptsBuf;
    // Slot of each kdbush item by item id, only until the items are in kd order.
    const itemSlot = new Int32Array(n);
    const kd = n > 0 ? new KDBush(n, NODE_SIZE) : null;
    let i = 0;
    for (let s = 0; s < this.highWater; s++) {
      this.posOf[s] = -1;
      if (this._alive[s] === 1) {
        kd!.add(this._lng[s]!, this._lat[s]!);
        itemSlot[i++] = s;
      }
    }
    this.indexCount = i;
    if (kd) {
      kd.finish();
      const { ids, coords } = kd as unknown as { ids: Uint16Array | Uint32Array; coords: Float64Array };
      fillPoints(ids, coords, n, itemSlot, this.posOf, pts);
      this.splitsBuf = buildSplits(coords, n, NODE_SIZE, this.splitsBuf);
      this.snap = { coords, nodeSize: NODE_SIZE, n, pts, splits: this.splitsBuf };
    } else {
      this.snap = EMPTY_SNAPSHOT;
    }
    for (let j = 0; j < this.addedCount; j++) this.inAdded[this.added[j]!] = 0;
    this.addedCount = 0;
    this._maxDriftDeg = 0;
    this._changesSinceIndex = 0;
  }

  /** True while an off-thread rebuild is in flight. */
  get rebuildPending(): boolean {
    return this.pendingTicket !== 0;
  }

  /**
   * Start an off-thread rebuild: copies [lng, lat, slot] of every live driver into a shared buffer (a
   * linear pass) for IndexBuilder. The current snapshot keeps serving until installAsyncRebuild().
   */
  beginAsyncRebuild(): { ticket: number; n: number; nodeSize: number; input: SharedArrayBuffer } {
    this.cancelAsyncRebuild();
    const n = this._size;
    const input = new SharedArrayBuffer(24 * Math.max(1, n));
    const a = new Float64Array(input);
    let i = 0;
    for (let s = 0; s < this.highWater; s++) {
      if (this._alive[s] !== 1) continue;
      a[3 * i] = this._lng[s]!;
      a[3 * i + 1] = this._lat[s]!;
      a[3 * i + 2] = s;
      i++;
    }
    this.pendingTicket = ++this.ticketSeq;
    this.changesAtBegin = this._changesSinceIndex;
    return { ticket: this.pendingTicket, n, nodeSize: NODE_SIZE, input };
  }

  /**
   * Swap in a snapshot built off-thread from beginAsyncRebuild()'s copy; false (and nothing changes) when
   * the ticket is stale (a newer or synchronous rebuild happened). Linear passes only: entries of drivers
   * who left meanwhile are voided, drivers who moved get their live position ranked and widen the drift,
   * drivers added meanwhile stay in the linear-scan list. Exactness is the same as after rebuildIndex().
   */
  installAsyncRebuild(ticket: number, n: number, data: SharedArrayBuffer | null, ptsBuf: SharedArrayBuffer | null, splits: Float64Array): boolean {
    if (ticket !== this.pendingTicket) return false;
    this.pendingTicket = 0;
    for (let s = 0; s < this.highWater; s++) this.posOf[s] = -1;
    let drift = 0;
    if (n > 0 && data && ptsBuf) {
      const kd = KDBush.from(data) as unknown as { coords: Float64Array };
      const coords = kd.coords;
      const pts = new Float64Array(ptsBuf);
      for (let p = 0; p < n; p++) {
        const s = pts[4 * p + 3]!;
        if (this.goneDuring[s] === 1 || this._alive[s] !== 1) {
          pts[4 * p] = NaN;
          pts[4 * p + 3] = -1;
          continue;
        }
        this.posOf[s] = p;
        const dLat = Math.abs(this._lat[s]! - coords[2 * p + 1]!);
        const dLng = lngDeltaDegrees(this._lng[s]!, coords[2 * p]!);
        if (dLat !== 0 || dLng !== 0) {
          pts[4 * p] = NaN; // moved since the copy: rank by the live position
          const d = dLat > dLng ? dLat : dLng;
          if (d > drift) drift = d;
        }
      }
      this.snap = { coords, nodeSize: NODE_SIZE, n, pts, splits };
    } else {
      this.snap = EMPTY_SNAPSHOT;
    }
    this.clearGone();
    // Drivers not in this snapshot (added, or removed and re-added, during the build) are scanned linearly.
    for (let j = 0; j < this.addedCount; j++) this.inAdded[this.added[j]!] = 0;
    this.addedCount = 0;
    for (let s = 0; s < this.highWater; s++) {
      if (this._alive[s] === 1 && this.posOf[s]! < 0) {
        this.inAdded[s] = 1;
        this.added[this.addedCount++] = s;
      }
    }
    this.indexCount = n;
    this._maxDriftDeg = drift;
    this._changesSinceIndex -= this.changesAtBegin;
    return true;
  }

  /** Forget an off-thread rebuild in flight (its result will be ignored). */
  cancelAsyncRebuild(): void {
    this.pendingTicket = 0;
    this.clearGone();
  }

  private clearGone(): void {
    for (const s of this.goneList) this.goneDuring[s] = 0;
    this.goneList.length = 0;
  }

  /** Number of drivers in the current snapshot. */
  get indexedCount(): number {
    return this.indexCount;
  }

  /**
   * Up to k live drivers within maxMetres of (lat, lng) degrees for which filter(slot) is true,
   * nearest first by haversine over LIVE positions, written into `out` (k <= out.capacity).
   * Exact despite a stale snapshot: snapshot cells are widened by maxDriftDeg, moved drivers are ranked by
   * their live position, and drivers added since the rebuild are scanned linearly. maxMetres may be
   * Infinity. Returns out.count.
   * Ranking uses squared chords between unit vectors (monotone in haversine distance, no trig per
   * candidate); metres are derived for the winners only. Not reentrant: filter must not call nearest().
   */
  nearest(lat: number, lng: number, k: number, maxMetres: number, filter: ((slot: number) => boolean) | null, out: NearestResult): number {
    out.count = 0;
    if (k > out.capacity) throw new RangeError(`k=${k} exceeds NearestResult capacity ${out.capacity}`);
    if (!(k >= 1) || !(maxMetres >= 0) || !(lat >= -90 && lat <= 90) || !Number.isFinite(lng)) return 0;
    k = Math.floor(k); // a fractional k would index metres[k - 1] off the end
    if (lng < -180 || lng > 180) lng = ((((lng + 180) % 360) + 360) % 360) - 180;

    const q = this.query;
    q.set(lat, lng, k, maxMetres, this._maxDriftDeg + BOX_EPSILON_DEG, filter);
    const maxKey = q.maxKey;
    kdNearest(this.snap, q, this._lat, this._lng, out);
    q.filter = null;

    let limit = out.count < k ? maxKey : out.keys[k - 1]!;
    for (let j = 0; j < this.addedCount; j++) {
      const s = this.added[j]!;
      // posOf is never set here (a rebuild empties `added`), but checking it keeps the no-duplicate rule local.
      if (this._alive[s] !== 1 || this.posOf[s]! >= 0) continue;
      const la = this._lat[s]!;
      if (latGapKey(Math.abs(la - lat)) >= limit) continue;
      const key = liveChordKey(q, la, this._lng[s]!);
      // Distance test first and filter last: the filter is caller code of unknown cost.
      if (key < limit && (filter === null || filter(s))) limit = out.insertKey(s, key, k, maxKey);
    }

    // Metres for the winners only. Near the radius, haversine decides (it is the contract), so a driver
    // the key's rounding let in at maxMetres + 1e-9 is dropped.
    let n = 0;
    for (let i = 0; i < out.count; i++) {
      const s = out.slots[i]!;
      let m = metresOfChordKey(out.keys[i]!);
      if (m > maxMetres - 1e-6) {
        m = haversineMetres(lat, lng, this._lat[s]!, this._lng[s]!);
        if (!(m <= maxMetres)) continue;
      }
      out.slots[n] = s;
      out.keys[n] = out.keys[i]!;
      out.metres[n++] = m;
    }
    out.count = n;
    return n;
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

  /** Reused query record for kdNearest (no allocation per query). */
  private readonly query = new KdQuery();

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
    this.posOf = growI32(this.posOf, n, -1);
    this.inAdded = growU8(this.inAdded, n);
    this.added = growI32(this.added, n);
    this.goneDuring = growU8(this.goneDuring, n);
    this.cap = n;
  }
}
