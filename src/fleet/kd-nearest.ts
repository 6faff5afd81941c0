// Exact k-nearest over a kdbush snapshot: unit-vector chord keys, query's leaf first, cells pruned by a trig-free bound.
import { EARTH_RADIUS_M } from './geo.js';
import type { NearestResult } from './nearest-result.js';

const RAD = Math.PI / 180;
const HALF_RAD = RAD / 2;

/**
 * The snapshot as the search reads it, all in kd order (kdbush sorts its items in place, so neighbours in
 * space are neighbours in memory). `coords` and `nodeSize` are kdbush's own fields.
 */
export interface KdSnapshot {
  /** kdbush coords: [lng0, lat0, lng1, lat1, ...] degrees, as of the last rebuild. */
  coords: Float64Array;
  nodeSize: number;
  /** Number of items. */
  n: number;
  /**
   * Per position, [x, y, z, slot]: the unit vector, so ranking is a squared chord with no trig, and the
   * driver's slot in the same cache line (one memory stream per leaf). x is NaN once the driver moved or
   * left after the rebuild (the search then reads the live arrays); slot is -1 once it left (its slot may
   * already hold someone else).
   */
  pts: Float64Array;
  /**
   * Split value (degrees) of each internal node in heap order (root 1, children 2i and 2i + 1): a compact
   * copy of the medians' coordinates, so the descent reads a small, cache-resident array instead of
   * scattered lines of `coords` (see buildSplits).
   */
  splits: Float64Array;
}

/**
 * Fill `splits` (heap order) for a finished kdbush tree over n items and return it, reallocating when
 * too small. Mirrors kdbush's layout: node [l, r] with r − l > nodeSize splits at m = (l + r) >> 1 on
 * x (lng) at even depth, y (lat) at odd depth.
 */
export function buildSplits(coords: Float64Array, n: number, nodeSize: number, splits: Float64Array): Float64Array {
  let size = n;
  let levels = 0;
  while (size - 1 > nodeSize) {
    size = Math.ceil((size - 1) / 2);
    levels++;
  }
  const need = 1 << levels;
  if (splits.length < need) splits = new Float64Array(need);
  if (levels === 0) return splits;
  // Depth-first over [l, r, node, axis]; the stack never holds more than one entry per level.
  const st = new Int32Array(4 * (levels + 2));
  let sp = 0;
  st[0] = 0; st[1] = n - 1; st[2] = 1; st[3] = 0;
  sp = 1;
  while (sp > 0) {
    sp--;
    const l = st[4 * sp]!, r = st[4 * sp + 1]!, node = st[4 * sp + 2]!, axis = st[4 * sp + 3]!;
    if (r - l <= nodeSize) continue;
    const m = (l + r) >> 1;
    splits[node] = coords[2 * m + axis]!;
    st[4 * sp] = l; st[4 * sp + 1] = m - 1; st[4 * sp + 2] = 2 * node; st[4 * sp + 3] = 1 - axis;
    sp++;
    st[4 * sp] = m + 1; st[4 * sp + 1] = r; st[4 * sp + 2] = 2 * node + 1; st[4 * sp + 3] = 1 - axis;
    sp++;
  }
  return splits;
}

/**
 * Fill `pts` ([x, y, z, slot] per kd position) and `posOf` (slot → kd position) for a finished kdbush
 * tree over n items; `itemSlot` maps kdbush item ids (insertion order) to slots. Four trig calls a driver.
 */
export function fillPoints(ids: Uint16Array | Uint32Array, coords: Float64Array, n: number, itemSlot: Int32Array, posOf: Int32Array, pts: Float64Array): void {
  for (let p = 0; p < n; p++) {
    const s = itemSlot[ids[p]!]!;
    posOf[s] = p;
    putPoint(pts, p, coords[2 * p]!, coords[2 * p + 1]!, s);
  }
}

/** Write point p of `pts`: the unit vector of (lng, lat) degrees and the slot. */
export function putPoint(pts: Float64Array, p: number, lng: number, lat: number, slot: number): void {
  const lam = lng * RAD;
  const phi = lat * RAD;
  const c = Math.cos(phi);
  pts[4 * p] = c * Math.cos(lam);
  pts[4 * p + 1] = c * Math.sin(lam);
  pts[4 * p + 2] = Math.sin(phi);
  pts[4 * p + 3] = slot;
}

/** One query's constants, reused (no allocation per query). Angles in degrees unless named otherwise. */
export class KdQuery {
  lat = 0;
  lng = 0;
  /** Unit vector of the query point. */
  qx = 0;
  qy = 0;
  qz = 0;
  /** cos(lat) of the query. */
  cosLat = 1;
  /** Lower bound of cos(lat) of any driver that can be within maxMetres (0 when unknown). */
  cosMin = 0;
  k = 1;
  /** Squared-chord key of maxMetres, widened a hair: nothing at or beyond it is a candidate. */
  maxKey = 0;
  /** Degrees any snapshot position may have drifted from the live one (lat, or wrapped lng). */
  drift = 0;
  filter: ((slot: number) => boolean) | null = null;
  /** Product mask: a candidate needs `(bits[slot] & mask) !== 0`; ANY_PRODUCT (0) takes every driver. */
  mask = 0;
  // The last radius (metres) and what follows from it: angle (radians), its cos and sin.
  private radiusM = NaN;
  private radiusAngle = 0;
  private radiusCos = 1;
  private radiusSin = 0;

  /** Set up a query at (lat, lng) degrees (lng in [-180, 180]) for k drivers within maxMetres metres. */
  set(lat: number, lng: number, k: number, maxMetres: number, drift: number, filter: ((slot: number) => boolean) | null, mask = 0): void {
    const phi = lat * RAD;
    const lam = lng * RAD;
    const cosLat = Math.cos(phi);
    const sinLat = Math.sin(phi);
    this.lat = lat;
    this.lng = lng;
    this.qx = cosLat * Math.cos(lam);
    this.qy = cosLat * Math.sin(lam);
    this.qz = sinLat;
    this.cosLat = cosLat;
    if (maxMetres !== this.radiusM) {
      this.radiusM = maxMetres;
      this.radiusAngle = maxMetres / EARTH_RADIUS_M;
      this.radiusCos = Math.cos(this.radiusAngle);
      this.radiusSin = Math.sin(this.radiusAngle);
      this.maxKey = chordKeyOfMetres(maxMetres);
    }
    // No candidate lies further from the equator than the query plus maxMetres (angle A): that bounds its
    // cos(lat) by cos(|lat| + A) = cos(lat)·cos A − |sin lat|·sin A, with A's trig cached per radius.
    const cosMin = Math.abs(phi) + this.radiusAngle < Math.PI / 2
      ? (cosLat * this.radiusCos - Math.abs(sinLat) * this.radiusSin) * (1 - 1e-12) - 1e-15
      : 0;
    this.cosMin = cosMin > 0 ? cosMin : 0;
    this.k = k;
    this.drift = drift;
    this.filter = filter;
    this.mask = mask;
  }
}

/**
 * Squared chord between unit vectors for a distance in metres: (2·sin(d / 2R))², which orders exactly
 * like haversine distance. Widened so rounding never drops a point lying on the edge: relatively, and by
 * 4e-15 of chord (~25 nm), more than the rounding of unit vectors (a few 1e-16 per component) can move a
 * short chord. Beyond half the globe (and for Infinity) returns 5, more than any chord² (≤ 4).
 */
export function chordKeyOfMetres(metres: number): number {
  if (!(metres < Math.PI * EARTH_RADIUS_M)) return 5;
  const c = 2 * Math.sin(metres / (2 * EARTH_RADIUS_M)) * (1 + 1e-12) + 4e-15;
  return c * c;
}

/** Metres of a squared-chord key (inverse of chordKeyOfMetres without the widening). */
export function metresOfChordKey(key: number): number {
  const h = Math.sqrt(key) * 0.5;
  // asin by its series below 0.01 (~127 km; the terms left out are < 1e-17 relative): Math.asin per
  // winner was a visible share of a 10-nearest query.
  if (h < 0.01) {
    const h2 = h * h;
    return 2 * EARTH_RADIUS_M * h * (1 + h2 * (1 / 6 + h2 * (3 / 40 + h2 * (15 / 336))));
  }
  return 2 * EARTH_RADIUS_M * Math.asin(h < 1 ? h : 1);
}

/** Squared chord between a query and a live position in degrees (haversine: 4a); three trig calls. */
export function liveChordKey(q: KdQuery, lat: number, lng: number): number {
  const sl = Math.sin((lat - q.lat) * HALF_RAD);
  const sg = Math.sin((lng - q.lng) * HALF_RAD);
  return 4 * (sl * sl + q.cosLat * Math.cos(lat * RAD) * sg * sg);
}

/** sin²(t/2) from below for t in degrees, 0..180 (sin x ≥ x − x³/6 for x ≥ 0): a trig-free haversine term. */
function halfSinSq(deg: number): number {
  if (!(deg > 0)) return 0;
  const t = deg * HALF_RAD;
  const s = t - (t * t * t) / 6;
  return s * s;
}

/** Trig-free lower bound of the squared chord for a latitude gap of `dLat` degrees. */
export function latGapKey(dLat: number): number {
  return 4 * halfSinSq(dLat);
}

// Work stack (single-threaded, non-reentrant), one entry per far cell: [left, right, axis, median, node] and
// [xlo, xhi, latTerm, lngTerm, bound]. Each level pushes at most one cell, so the tree depth (< 32) bounds it.
const ISTACK = new Int32Array(5 * 64);
const FSTACK = new Float64Array(5 * 64);

/**
 * Offer every snapshot driver that can be among the k nearest to `out` (whose `keys` hold squared chords).
 * Descends straight to the query's leaf (deferring each split's median along with the far cell), so the
 * first k candidates are already close; then pops only cells whose bound beats the current k-th key.
 * Exact over live positions: unmoved drivers are ranked by their snapshot unit vector (equal to live),
 * moved ones by the live arrays, departed ones skipped; cell bounds are widened by `drift`. Candidates
 * must share a bit with the query's product mask (`products` by slot) unless the mask is 0.
 *
 * A cell's bound is a lower bound of the squared chord to any driver in it, 4·(latTerm + lngTerm) with
 * latTerm = sin²(Δφ/2) and lngTerm = cos φq · cosMin · sin²(Δλ/2) taken at the cell's gaps from the query
 * (haversine: a ≥ both, summed). A child differs from its parent on the split axis only, so only that
 * term is recomputed, trig-free. Longitude gaps take the shorter way round, so one pass serves queries
 * at the antimeridian; the child on the query's side keeps its parent's (valid, if loose) bound.
 */
export function kdNearest(snap: KdSnapshot, q: KdQuery, liveLat: Float64Array, liveLng: Float64Array, products: Uint32Array, out: NearestResult): void {
  const { splits, nodeSize, n, pts } = snap;
  if (n === 0) return;
  const { lat, lng, qx, qy, qz, k, maxKey, drift, filter, mask } = q;
  const lngWeight = q.cosLat * q.cosMin;
  // 4·a, shaved so rounding in a bound can never prune a cell holding a real candidate.
  const BOUND = 4 * (1 - 1e-9);
  const keys = out.keys;
  const slots = out.slots;
  const istack = ISTACK;
  const fstack = FSTACK;
  let count = out.count;
  let limit = count < k ? maxKey : keys[k - 1]!;

  // The current cell: item range, split axis, heap node, longitude extent and bound terms.
  let left = 0;
  let right = n - 1;
  let axis = 0;
  let node = 1;
  let xlo = -180, xhi = 180;
  let latTerm = 0, lngTerm = 0;
  let cellBound = 0;
  // Points to offer next (a leaf, or a popped cell's median), then whether the current cell is still to descend.
  let from = 0;
  let to = -1;
  let descend = true;
  let sp = 0;
  for (;;) {
    for (let i = from; i <= to; i++) {
      const j = 4 * i;
      const dx = pts[j]! - qx;
      const dy = pts[j + 1]! - qy;
      const dz = pts[j + 2]! - qz;
      let key = dx * dx + dy * dy + dz * dz;
      let s: number;
      if (key < limit) {
        s = pts[j + 3]!;
      } else if (key !== key) {
        // Moved or gone since the rebuild: rank by the live position (gone: skip).
        s = pts[j + 3]!;
        if (s < 0) continue;
        const la = liveLat[s]!;
        if (latGapKey(Math.abs(la - lat)) >= limit) continue;
        key = liveChordKey(q, la, liveLng[s]!);
        if (!(key < limit)) continue;
      } else {
        continue;
      }
      // Product bits by slot, one 32-bit word: a bit test, cheaper than any filter call.
      if (mask !== 0 && (products[s]! & mask) === 0) continue;
      if (filter !== null && !filter(s)) continue;
      // Sorted insert into the top k; equal keys keep arrival order (NearestResult.insertKey, inlined in this loop).
      let p = count < k ? count++ : k - 1;
      while (p > 0 && keys[p - 1]! > key) {
        keys[p] = keys[p - 1]!;
        slots[p] = slots[p - 1]!;
        p--;
      }
      keys[p] = key;
      slots[p] = s;
      if (count === k) limit = keys[k - 1]!;
    }
    if (descend && cellBound < limit) {
      // Down to the leaf on the query's side; the far child and the median (on the far cell's edge, so
      // covered by its bound) go on the stack.
      while (right - left > nodeSize) {
        const m = (left + right) >> 1;
        const split = splits[node]!;
        let fl: number, fr: number, fnode: number, fxlo = xlo, fxhi = xhi, fLat = latTerm, fLng = lngTerm;
        if (axis === 0) {
          let gap: number;
          if (lng < split) {
            fl = m + 1; fr = right; right = m - 1; fnode = 2 * node + 1; node = 2 * node;
            fxlo = split; xhi = split;
            gap = split - lng;
            const round = lng + 360 - fxhi;
            if (round < gap) gap = round;
          } else {
            fl = left; fr = m - 1; left = m + 1; fnode = 2 * node; node = 2 * node + 1;
            fxhi = split; xlo = split;
            gap = lng - split;
            const round = fxlo + 360 - lng;
            if (round < gap) gap = round;
          }
          fLng = lngWeight * halfSinSq(gap - drift);
        } else {
          if (lat < split) {
            fl = m + 1; fr = right; right = m - 1; fnode = 2 * node + 1; node = 2 * node;
          } else {
            fl = left; fr = m - 1; left = m + 1; fnode = 2 * node; node = 2 * node + 1;
          }
          fLat = halfSinSq(Math.abs(split - lat) - drift);
        }
        axis = 1 - axis;
        const farBound = BOUND * (fLat + fLng);
        if (farBound < limit) {
          const si = 5 * sp;
          istack[si] = fl;
          istack[si + 1] = fr;
          istack[si + 2] = axis;
          istack[si + 3] = m;
          istack[si + 4] = fnode;
          fstack[si] = fxlo;
          fstack[si + 1] = fxhi;
          fstack[si + 2] = fLat;
          fstack[si + 3] = fLng;
          fstack[si + 4] = farBound;
          sp++;
        }
      }
      from = left;
      to = right;
      descend = false;
      continue;
    }
    // Pop the next cell still able to beat the k-th best (the limit only ever shrinks); offer its median first.
    let found = false;
    while (sp > 0) {
      sp--;
      const si = 5 * sp;
      cellBound = fstack[si + 4]!;
      if (!(cellBound < limit)) continue;
      left = istack[si]!;
      right = istack[si + 1]!;
      axis = istack[si + 2]!;
      from = to = istack[si + 3]!;
      node = istack[si + 4]!;
      xlo = fstack[si]!;
      xhi = fstack[si + 1]!;
      latTerm = fstack[si + 2]!;
      lngTerm = fstack[si + 3]!;
      found = true;
      break;
    }
    if (!found) break;
    descend = true;
  }
  out.count = count;
}
