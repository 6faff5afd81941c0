// Live driver state for one city in flat typed arrays, with a periodically rebuilt kdbush snapshot for exact k-nearest queries.
import { haversineMetres } from './geo.js';
import { DriverStatus, isStatusCode } from './driver-status.js';
import type { DriverStatusCode } from './driver-status.js';
import { FleetColumns } from './fleet-columns.js';
import { ANY_PRODUCT, CityProducts } from './city-products.js';
import { FleetSnapshot } from './fleet-snapshot.js';
import { NearestResult } from './nearest-result.js';
import { KdQuery, kdNearest, latGapKey, liveChordKey, metresOfChordKey } from './kd-nearest.js';

export { DriverStatus, statusName } from './driver-status.js';
export type { DriverStatusCode, DriverStatusName } from './driver-status.js';
export { NearestResult } from './nearest-result.js';
export { ANY_PRODUCT, CityProducts } from './city-products.js';

export interface CityFleetOptions {
  name: string;
  /** Slots allocated up front; the arrays double when full. Default 1024. */
  initialCapacity?: number;
  /** The products the city offers; default: `taxi` only. */
  products?: CityProducts;
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

/**
 * One city's live drivers: the slot columns (`FleetColumns`: lat, lng, ts, hdg, spd, status by slot, no
 * object per driver) and their kdbush snapshot (`FleetSnapshot`), queried by `nearest()`. The arrays are
 * replaced when the fleet grows, so read them through the getters each time instead of caching them
 * across upserts.
 *
 * Positions are in degrees (lat, lng), times in ms since the epoch, heading in degrees and speed
 * in m/s (NaN when unknown), distances in metres.
 */
export class CityFleet extends FleetColumns {
  readonly name: string;
  /** Product name ↔ bit of this city (bits of the `products` column); replaced by `setOffered` when the city's products change. */
  offered: CityProducts;
  private readonly ix: FleetSnapshot;
  /** Reused query record for kdNearest (no allocation per query). */
  private readonly query = new KdQuery();

  constructor(opts: CityFleetOptions) {
    super(opts.initialCapacity ?? 1024);
    this.name = opts.name;
    this.offered = opts.products ?? new CityProducts(undefined);
    this.ix = new FleetSnapshot(this.capacity);
  }

  /**
   * The city's products changed: from now on bits mean `next`'s products. Each driver's bits are
   * recomputed by `bitsOf(id, oldNames)` (its names under the old registry) so no bit keeps an old meaning.
   */
  setOffered(next: CityProducts, bitsOf: (id: string, oldNames: string[]) => number): void {
    const prev = this.offered;
    this.offered = next;
    for (const [id, slot] of this.slotById) this._products[slot] = bitsOf(id, prev.namesOf(this._products[slot]!));
  }

  protected grown(n: number): void {
    this.ix.grow(n);
  }

  /** Largest position change, degrees (lat, or wrapped lng), of any snapshotted driver since the last rebuild. */
  get maxDriftDeg(): number { return this.ix.maxDriftDeg; }
  /** Upserts and removals since the last rebuild. */
  get changesSinceIndex(): number { return this.ix.changesSinceIndex; }
  /** Drivers added (or re-added) since the last rebuild; each is scanned linearly by nearest(). */
  get addedSinceIndex(): number { return this.ix.addedCount; }
  /** True when a rebuild would change the snapshot. */
  get indexDirty(): boolean { return this.ix.changesSinceIndex > 0; }
  /** Number of drivers in the current snapshot. */
  get indexedCount(): number { return this.ix.indexCount; }
  /** True while an off-thread rebuild is in flight. */
  get rebuildPending(): boolean { return this.ix.pending; }

  /**
   * Create or move a driver. lat/lng degrees, tsMs ms since the epoch, hdg degrees, spd m/s (NaN = unknown).
   * `status` defaults to the driver's current one, or offline for a new driver; `products` (bits, see
   * CityProducts) to the current ones, or the city's default product for a new driver. Returns its slot.
   * Throws RangeError on coordinates outside [-90, 90] / [-180, 180] (NaN included) because they would poison the index.
   */
  upsert(id: string, lat: number, lng: number, tsMs: number, hdg = NaN, spd = NaN, status?: DriverStatusCode, products?: number): number {
    if (!(lat >= -90 && lat <= 90) || !(lng >= -180 && lng <= 180)) {
      throw new RangeError(`driver ${id}: position (${lat}, ${lng}) is not a valid lat/lng in degrees`);
    }
    if (status !== undefined && !isStatusCode(status)) throw new RangeError(`driver ${id}: bad status code ${String(status)}`);
    let slot = this.slotById.get(id);
    if (slot === undefined) {
      slot = this.addSlot(id, status ?? DriverStatus.offline, products ?? this.offered.defaultBits);
      this.ix.slotAdded(slot);
    } else {
      this.ix.slotMoving(slot, lat, lng);
      if (status !== undefined) this._status[slot] = status;
      if (products !== undefined) this._products[slot] = products;
    }
    this._lat[slot] = lat;
    this._lng[slot] = lng;
    this._ts[slot] = tsMs;
    this._hdg[slot] = hdg;
    this._spd[slot] = spd;
    this.ix.changesSinceIndex++;
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

  /** Set a driver's product bits (see CityProducts); false when the driver is unknown. Does not dirty the index. */
  setProducts(id: string, bits: number): boolean {
    const slot = this.slotById.get(id);
    if (slot === undefined) return false;
    this._products[slot] = bits;
    return true;
  }

  /** Remove a driver; false when unknown. Its slot is freed for reuse. */
  remove(id: string): boolean {
    const slot = this.releaseSlot(id);
    if (slot < 0) return false;
    this.ix.slotRemoved(slot);
    this.ix.changesSinceIndex++;
    return true;
  }

  /** Remove drivers whose last fix is older than nowMs - maxSilenceMs (both ms); returns their ids. */
  expire(nowMs: number, maxSilenceMs: number): string[] {
    const cutoff = nowMs - maxSilenceMs;
    const gone: string[] = [];
    const limit = this.slotLimit;
    for (let s = 0; s < limit; s++) {
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
    this.ix.rebuild(this);
  }

  /**
   * Start an off-thread rebuild: copies [lng, lat, slot] of every live driver into a shared buffer (a
   * linear pass) for IndexBuilder. The current snapshot keeps serving until installAsyncRebuild().
   */
  beginAsyncRebuild(): { ticket: number; n: number; nodeSize: number; input: SharedArrayBuffer } {
    return this.ix.beginAsync(this);
  }

  /**
   * Swap in a snapshot built off-thread from beginAsyncRebuild()'s copy; false (and nothing changes) when
   * the ticket is stale (a newer or synchronous rebuild happened). Linear passes only: entries of drivers
   * who left meanwhile are voided, drivers who moved get their live position ranked and widen the drift,
   * drivers added meanwhile stay in the linear-scan list. Exactness is the same as after rebuildIndex().
   */
  installAsyncRebuild(ticket: number, n: number, data: SharedArrayBuffer | null, ptsBuf: SharedArrayBuffer | null, splits: Float64Array): boolean {
    return this.ix.installAsync(this, ticket, n, data, ptsBuf, splits);
  }

  /** Forget an off-thread rebuild in flight (its result will be ignored). */
  cancelAsyncRebuild(): void {
    this.ix.cancelAsync();
  }

  /**
   * Up to k live drivers within maxMetres of (lat, lng) degrees that serve a product of `mask` (bits of
   * CityProducts.maskOf; ANY_PRODUCT takes every driver) and for which filter(slot) is true,
   * nearest first by haversine over LIVE positions, written into `out` (k <= out.capacity).
   * Exact despite a stale snapshot: snapshot cells are widened by maxDriftDeg, moved drivers are ranked by
   * their live position, and drivers added since the rebuild are scanned linearly. maxMetres may be
   * Infinity. Returns out.count.
   * Ranking uses squared chords between unit vectors (monotone in haversine distance, no trig per
   * candidate); metres are derived for the winners only. Not reentrant: filter must not call nearest().
   */
  nearest(lat: number, lng: number, k: number, maxMetres: number, filter: ((slot: number) => boolean) | null, out: NearestResult, mask: number = ANY_PRODUCT): number {
    out.count = 0;
    if (k > out.capacity) throw new RangeError(`k=${k} exceeds NearestResult capacity ${out.capacity}`);
    if (!(k >= 1) || !(maxMetres >= 0) || !(lat >= -90 && lat <= 90) || !Number.isFinite(lng)) return 0;
    k = Math.floor(k); // a fractional k would index metres[k - 1] off the end
    if (lng < -180 || lng > 180) lng = ((((lng + 180) % 360) + 360) % 360) - 180;

    const ix = this.ix;
    const q = this.query;
    q.set(lat, lng, k, maxMetres, ix.maxDriftDeg + BOX_EPSILON_DEG, filter, mask);
    const maxKey = q.maxKey;
    const products = this._products;
    kdNearest(ix.snap, q, this._lat, this._lng, products, out);
    q.filter = null;

    let limit = out.count < k ? maxKey : out.keys[k - 1]!;
    const added = ix.added, posOf = ix.posOf;
    for (let j = 0; j < ix.addedCount; j++) {
      const s = added[j]!;
      // posOf is never set here (a rebuild empties `added`), but checking it keeps the no-duplicate rule local.
      if (this._alive[s] !== 1 || posOf[s]! >= 0) continue;
      const la = this._lat[s]!;
      if (latGapKey(Math.abs(la - lat)) >= limit) continue;
      const key = liveChordKey(q, la, this._lng[s]!);
      // Distance test first and filter last: the filter is caller code of unknown cost.
      if (key < limit && (mask === 0 || (products[s]! & mask) !== 0) && (filter === null || filter(s))) limit = out.insertKey(s, key, k, maxKey);
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
  nearestArray(lat: number, lng: number, k: number, maxMetres: number, filter: ((slot: number) => boolean) | null = null, mask: number = ANY_PRODUCT): NearestDriver[] {
    if (!(k >= 1)) return [];
    const res = new NearestResult(k);
    const n = this.nearest(lat, lng, k, maxMetres, filter, res, mask);
    const outArr: NearestDriver[] = new Array<NearestDriver>(n);
    for (let i = 0; i < n; i++) {
      const slot = res.slots[i]!;
      outArr[i] = { id: this.ids[slot]!, slot, metres: res.metres[i]! };
    }
    return outArr;
  }
}
