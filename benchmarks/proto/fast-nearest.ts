// Prototype of a faster exact CityFleet.nearest() (proposed for src/fleet/city-fleet.ts; measured by the
// nearest scenario as `proposal`). kdbush stays the index; what changes is the query strategy:
//   1. no allocation: walk kd.ids/kd.coords directly instead of kdbush.range() (which returns an array);
//   2. expanding box: scan a small box first (radius learned from recent queries) and widen it only when
//      fewer than k drivers lie within the scanned radius; a second pass at the k-th distance found is exact;
//   3. a cheaper exact distance key: haversine's `a` term with cos(lat) kept per slot, so ranking needs two
//      sines per candidate, and metres (asin/sqrt) only for the k winners.
// The result is exactly the brute-force k nearest by haversine over live positions (checked in the bench).
import type KDBush from 'kdbush';

const DEG = Math.PI / 180;
const R = 6371008.8;
const STACK = new Uint32Array(128);

export interface ProtoFleet {
  kd: KDBush;
  /** Slot of each kd item. */
  slots: Int32Array;
  /** Live positions and cos(lat) by slot. */
  lat: Float64Array;
  lng: Float64Array;
  cosLat: Float64Array;
  /** Max drift in degrees since the snapshot. */
  drift: number;
  /** Live arrays indexed by kd position (spatially local) instead of by slot. */
  byPos?: boolean;
}

export class ProtoNearest {
  readonly slots: Int32Array;
  readonly keys: Float64Array;
  readonly metres: Float64Array;
  count = 0;
  /** Radius (m) that sufficed for recent queries: the first box tried. */
  private guessM = 500;

  constructor(readonly capacity: number) {
    this.slots = new Int32Array(capacity);
    this.keys = new Float64Array(capacity);
    this.metres = new Float64Array(capacity);
  }

  nearest(f: ProtoFleet, lat: number, lng: number, k: number, maxMetres: number, filter: ((slot: number) => boolean) | null): number {
    const cq = Math.cos(lat * DEG);
    let r = this.guessM < maxMetres ? this.guessM : maxMetres;
    for (let pass = 0; ; pass++) {
      this.count = 0;
      // a(d) = sin²(d / 2R): the haversine key of a distance, so keys compare without asin/sqrt.
      const sMax = Math.sin(Math.min(maxMetres, r) / (2 * R));
      const keyLimit = sMax * sMax;
      const latHalf = r / R / DEG + f.drift + 1e-9;
      const ratio = Math.sin(r / R) / cq;
      const lngHalf = (ratio < 1 ? Math.asin(ratio) / DEG : 180) + f.drift + 1e-9;
      this.scan(f, lng - lngHalf, lat - latHalf, lng + lngHalf, lat + latHalf, lat, lng, cq, k, keyLimit, filter);
      const kth = this.count === k ? 2 * R * Math.asin(Math.sqrt(this.keys[k - 1]!)) : Infinity;
      if (kth <= r || r >= maxMetres) {
        // Learn: the next query starts near the radius that held k drivers here.
        const used = this.count === k ? kth : r;
        this.guessM = this.guessM * 0.9 + Math.max(50, used * 1.3) * 0.1;
        break;
      }
      // Widen: to the k-th distance found (exact on the next pass), or by area when fewer than k were found.
      r = this.count === k ? kth : r * Math.min(8, Math.max(2, Math.sqrt((k + 1) / Math.max(this.count, 0.5))));
      if (r > maxMetres) r = maxMetres;
    }
    for (let i = 0; i < this.count; i++) this.metres[i] = 2 * R * Math.asin(Math.sqrt(this.keys[i]!));
    return this.count;
  }

  private scan(
    f: ProtoFleet, minX: number, minY: number, maxX: number, maxY: number,
    lat: number, lng: number, cq: number, k: number, keyLimit: number, filter: ((slot: number) => boolean) | null,
  ): void {
    const { ids, coords, nodeSize } = f.kd as unknown as { ids: Uint32Array; coords: Float64Array; nodeSize: number };
    const slots = f.slots;
    const LAT = f.lat;
    const LNG = f.lng;
    const COS = f.cosLat;
    const keys = this.keys;
    let sp = 0;
    STACK[sp++] = 0;
    STACK[sp++] = ids.length - 1;
    STACK[sp++] = 0;
    while (sp > 0) {
      const axis = STACK[--sp]!;
      const right = STACK[--sp]!;
      const left = STACK[--sp]!;
      if (right - left <= nodeSize) {
        for (let i = left; i <= right; i++) {
          const x = coords[2 * i]!;
          const y = coords[2 * i + 1]!;
          if (x >= minX && x <= maxX && y >= minY && y <= maxY) {
            const s = slots[ids[i]!]!;
            const sl = Math.sin((LAT[s]! - lat) * DEG * 0.5);
            const sg = Math.sin((LNG[s]! - lng) * DEG * 0.5);
            const key = sl * sl + cq * COS[s]! * sg * sg;
            if (key <= keyLimit && (this.count < k || key < keys[k - 1]!) && (filter === null || filter(s))) this.insert(s, key, k);
          }
        }
        continue;
      }
      const m = (left + right) >> 1;
      const x = coords[2 * m]!;
      const y = coords[2 * m + 1]!;
      if (x >= minX && x <= maxX && y >= minY && y <= maxY) {
        const s = slots[ids[m]!]!;
        const sl = Math.sin((LAT[s]! - lat) * DEG * 0.5);
        const sg = Math.sin((LNG[s]! - lng) * DEG * 0.5);
        const key = sl * sl + cq * COS[s]! * sg * sg;
        if (key <= keyLimit && (this.count < k || key < keys[k - 1]!) && (filter === null || filter(s))) this.insert(s, key, k);
      }
      if (axis === 0 ? minX <= x : minY <= y) {
        STACK[sp++] = left;
        STACK[sp++] = m - 1;
        STACK[sp++] = 1 - axis;
      }
      if (axis === 0 ? maxX >= x : maxY >= y) {
        STACK[sp++] = m + 1;
        STACK[sp++] = right;
        STACK[sp++] = 1 - axis;
      }
    }
  }

  private insert(slot: number, key: number, k: number): void {
    let i = this.count < k ? this.count++ : k - 1;
    const s = this.slots;
    const m = this.keys;
    while (i > 0 && m[i - 1]! > key) {
      s[i] = s[i - 1]!;
      m[i] = m[i - 1]!;
      i--;
    }
    s[i] = slot;
    m[i] = key;
  }
}

const ISTACK = new Int32Array(3 * 64);
const BSTACK = new Float64Array(64);

/**
 * Variant B (the one proposed): depth-first branch and bound over the kd-tree, nearer child first, with a
 * search box that starts at maxMetres and shrinks to the k-th best distance as soon as k drivers are held.
 * Far children are pushed with the split value that must still intersect the box when they are popped,
 * so most of the tree is never visited. Distances use the exact haversine key.
 */
export class ProtoNearestDfs {
  readonly slots: Int32Array;
  readonly keys: Float64Array;
  readonly metres: Float64Array;
  count = 0;

  constructor(readonly capacity: number) {
    this.slots = new Int32Array(capacity);
    this.keys = new Float64Array(capacity);
    this.metres = new Float64Array(capacity);
  }

  nearest(f: ProtoFleet, lat: number, lng: number, k: number, maxMetres: number, filter: ((slot: number) => boolean) | null): number {
    this.count = 0;
    const { ids, coords, nodeSize } = f.kd as unknown as { ids: Uint32Array; coords: Float64Array; nodeSize: number };
    const slots = f.slots;
    const LAT = f.lat;
    const LNG = f.lng;
    const COS = f.cosLat;
    const byPos = f.byPos === true;
    const keys = this.keys;
    const drift = f.drift + 1e-9;
    const cq = Math.cos(lat * DEG);
    const angMax = Math.min(maxMetres / R, Math.PI);
    const sMax = Math.sin(angMax / 2);
    // A candidate needs key <= limit: the key of maxMetres until k are held, then the k-th best key.
    let limit = sMax * sMax;
    // cos of the highest |latitude| any candidate can have bounds the longitude term from below.
    const hiLat = Math.min(90, Math.abs(lat) + angMax / DEG + drift);
    const cqHi = cq * Math.cos(hiLat * DEG);
    // The search box (degrees, widened by drift); recomputed only when the limit has halved since (trig is dear).
    let boxKey = limit;
    let latLim = angMax / DEG + drift;
    let lngLim = lngLimit(limit, cqHi) + drift;
    let minX = lng - lngLim;
    let maxX = lng + lngLim;
    let minY = lat - latLim;
    let maxY = lat + latLim;
    const H = DEG * 0.5;

    ISTACK[0] = 0;
    ISTACK[1] = ids.length - 1;
    ISTACK[2] = 0;
    let sp = 1;
    while (sp > 0) {
      sp--;
      const left = ISTACK[3 * sp]!;
      const right = ISTACK[3 * sp + 1]!;
      const code = ISTACK[3 * sp + 2]!; // axis | side << 1 | recheck << 2
      const axis = code & 1;
      if (code & 4) {
        const split = BSTACK[sp]!;
        if (code & 2) {
          if ((axis === 1 ? maxX : maxY) < split) continue; // right child of a split on the other axis
        } else if ((axis === 1 ? minX : minY) > split) continue;
      }
      const leaf = right - left <= nodeSize;
      const from = leaf ? left : (left + right) >> 1;
      const to = leaf ? right : from;
      for (let i = from; i <= to; i++) {
        const x = coords[2 * i]!;
        const y = coords[2 * i + 1]!;
        if (x < minX || x > maxX || y < minY || y > maxY) continue;
        // Trig-free lower bound of the key from the snapshot position (sin t >= t - t^3/6), before touching
        // the live arrays: most points inside the box are rejected here.
        let a = (Math.abs(y - lat) - drift) * H;
        let b = (Math.abs(x - lng) - drift) * H;
        a = a > 0 ? a - (a * a * a) / 6 : 0;
        b = b > 0 ? b - (b * b * b) / 6 : 0;
        if (a * a + cqHi * b * b > limit) continue;
        const s = slots[ids[i]!]!;
        const j = byPos ? i : s;
        const sl = Math.sin((LAT[j]! - lat) * H);
        const sg = Math.sin((LNG[j]! - lng) * H);
        const key = sl * sl + cq * COS[j]! * sg * sg;
        if (key > limit || (this.count === k && key >= keys[k - 1]!)) continue;
        if (filter !== null && !filter(s)) continue;
        this.insert(s, key, k);
        if (this.count === k) {
          limit = keys[k - 1]!;
          if (limit < boxKey * 0.5) {
            boxKey = limit;
            latLim = (2 * Math.asin(Math.sqrt(limit))) / DEG + drift;
            lngLim = lngLimit(limit, cqHi) + drift;
            minX = lng - lngLim;
            maxX = lng + lngLim;
            minY = lat - latLim;
            maxY = lat + latLim;
          }
        }
      }
      if (leaf) continue;
      const m = from;
      const split = axis === 0 ? coords[2 * m]! : coords[2 * m + 1]!;
      const q = axis === 0 ? lng : lat;
      const goLeft = axis === 0 ? minX <= split : minY <= split;
      const goRight = axis === 0 ? maxX >= split : maxY >= split;
      const child = 1 - axis;
      // Far child first (popped last, its split re-checked against the shrunk box), near child last.
      if (q < split) {
        if (goRight) {
          ISTACK[3 * sp] = m + 1; ISTACK[3 * sp + 1] = right; ISTACK[3 * sp + 2] = child | 6; BSTACK[sp++] = split;
        }
        if (goLeft) {
          ISTACK[3 * sp] = left; ISTACK[3 * sp + 1] = m - 1; ISTACK[3 * sp + 2] = child; BSTACK[sp++] = split;
        }
      } else {
        if (goLeft) {
          ISTACK[3 * sp] = left; ISTACK[3 * sp + 1] = m - 1; ISTACK[3 * sp + 2] = child | 4; BSTACK[sp++] = split;
        }
        if (goRight) {
          ISTACK[3 * sp] = m + 1; ISTACK[3 * sp + 1] = right; ISTACK[3 * sp + 2] = child | 2; BSTACK[sp++] = split;
        }
      }
    }
    for (let i = 0; i < this.count; i++) this.metres[i] = 2 * R * Math.asin(Math.sqrt(this.keys[i]!));
    return this.count;
  }

  private insert(slot: number, key: number, k: number): void {
    let i = this.count < k ? this.count++ : k - 1;
    const s = this.slots;
    const m = this.keys;
    while (i > 0 && m[i - 1]! > key) {
      s[i] = s[i - 1]!;
      m[i] = m[i - 1]!;
      i--;
    }
    s[i] = slot;
    m[i] = key;
  }
}

/** Longitude half-width (degrees) outside which no point can have a haversine key below `key`. */
function lngLimit(key: number, cosProduct: number): number {
  if (!(cosProduct > 0)) return 180;
  const r = Math.sqrt(key / cosProduct);
  return r >= 1 ? 180 : (2 * Math.asin(r)) / DEG;
}
