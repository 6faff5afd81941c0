// Branch-and-bound nearest search over a kdbush snapshot: near child first, box shrinking to the k-th best.
import type KDBush from 'kdbush';
import { haversineMetres, metresToLatDegrees, metresToLngDegrees } from './geo.js';
import type { NearestResult } from './nearest-result.js';

/** kdbush 4 keeps its tree in these public fields: a static, implicit k-d tree sorted in place. */
interface KdTree { ids: Uint16Array | Uint32Array; coords: Float64Array; nodeSize: number }

const EARTH_R = 6371008.8;
const RAD = Math.PI / 180;
const HALF_RAD = RAD / 2;

/** Haversine key of a distance in metres (Infinity and beyond half the globe → 1). */
function keyOf(metres: number): number {
  if (!(metres < Math.PI * EARTH_R)) return 1;
  const s = Math.sin(metres / (2 * EARTH_R));
  return s * s * (1 + 1e-12) + 1e-18; // a hair of slack for rounding: never skip a point on the edge
}

// Work stacks, shared (single-threaded, non-reentrant): [left, right, axis | recheck << 1 | side << 2] + split.
const ISTACK = new Int32Array(3 * 256);
const SSTACK = new Float64Array(256);

export interface KdQuery {
  lat: number;
  lng: number;
  k: number;
  maxMetres: number;
  /** Degrees every snapshot position may have drifted from the live one (box widening). */
  drift: number;
  filter: ((slot: number) => boolean) | null;
}

/**
 * Visit the snapshot points inside [minLng, maxLng] × [minLat, maxLat] (degrees), nearest regions first,
 * and offer each live driver to `out` (haversine over live positions, `maxMetres`, `filter`). Once `out`
 * holds k drivers the box shrinks to the k-th distance (plus drift), so most of the tree is never visited.
 * Exact: a point is skipped only when it cannot beat the current k-th best even after drifting.
 * `slotOf(i)` maps an index item to its slot, or -1 when that driver is gone since the snapshot.
 */
export function kdNearest(
  index: KDBush, minLng: number, minLat: number, maxLng: number, maxLat: number,
  q: KdQuery, slotOf: (item: number) => number, liveLat: Float64Array, liveLng: Float64Array, out: NearestResult,
): void {
  const { ids, coords, nodeSize } = index as unknown as KdTree;
  if (ids.length === 0) return;
  const { lat, lng, k, maxMetres, drift, filter } = q;
  let minX = minLng, maxX = maxLng, minY = minLat, maxY = maxLat;
  // Longitude shrinks only around the query inside this box: the halves of a box split at ±180 (and
  // circles that wrap) keep their longitude range, so no wrapped driver is ever cut off.
  const shrinkX = minLng <= lng && lng <= maxLng;
  // The k-th distance the box was last shrunk to; shrink again when it halves (trig is not free).
  let boxM = Infinity;
  // Haversine keys a = sin²(d / 2R) order like distances. A point's key has a cheap, trig-free lower
  // bound from its snapshot position (drift removed, sin t ≥ t − t³/6, the smallest cos(lat) possible);
  // points whose bound exceeds the key of the current threshold are skipped before any live read.
  const cq = Math.cos(lat * RAD);
  const maxLatReach = Math.min(90, Math.abs(lat) + (Number.isFinite(maxMetres) ? maxMetres / EARTH_R / RAD : 90) + drift);
  const cqHi = cq * Math.cos(maxLatReach * RAD);
  let keyLimit = keyOf(maxMetres);
  const shrink = (): void => {
    const kth = out.metres[k - 1]!;
    keyLimit = keyOf(kth);
    if (!(kth < boxM * 0.5)) return;
    boxM = kth;
    const dLat = metresToLatDegrees(kth) + drift;
    const dLng = metresToLngDegrees(kth, lat) + drift;
    if (lat - dLat > minY) minY = lat - dLat;
    if (lat + dLat < maxY) maxY = lat + dLat;
    if (shrinkX && dLng < 180 && lng - dLng >= -180 && lng + dLng <= 180) {
      if (lng - dLng > minX) minX = lng - dLng;
      if (lng + dLng < maxX) maxX = lng + dLng;
    }
  };
  const visit = (i: number): void => {
    const x = coords[2 * i]!;
    const y = coords[2 * i + 1]!;
    if (x < minX || x > maxX || y < minY || y > maxY) return;
    let a = (Math.abs(y - lat) - drift) * HALF_RAD;
    let b = (Math.abs(x - lng) - drift) * HALF_RAD;
    a = a > 0 ? a - (a * a * a) / 6 : 0;
    b = b > 0 && b < 1.5 ? b - (b * b * b) / 6 : 0; // |Δλ| over ~170°: no bound from longitude
    if (a * a + cqHi * b * b > keyLimit) return;
    const s = slotOf(ids[i]!);
    if (s < 0) return;
    const d = haversineMetres(lat, lng, liveLat[s]!, liveLng[s]!);
    if (d <= maxMetres && out.wouldAccept(d, k) && (filter === null || filter(s))) {
      out.insert(s, d, k);
      if (out.count === k) shrink();
    }
  };
  let sp = 0;
  ISTACK[0] = 0;
  ISTACK[1] = ids.length - 1;
  ISTACK[2] = 0;
  sp = 1;
  while (sp > 0) {
    sp--;
    const left = ISTACK[3 * sp]!;
    const right = ISTACK[3 * sp + 1]!;
    const code = ISTACK[3 * sp + 2]!;
    const axis = code & 1;
    if (code & 2) {
      // A far child pushed before the box shrank: re-check its side of the parent's split.
      const split = SSTACK[sp]!;
      const parentAxis = 1 - axis;
      if (code & 4) {
        if ((parentAxis === 0 ? maxX : maxY) < split) continue; // right child
      } else if ((parentAxis === 0 ? minX : minY) > split) continue; // left child
    }
    if (right - left <= nodeSize) {
      for (let i = left; i <= right; i++) visit(i);
      continue;
    }
    const m = (left + right) >> 1;
    visit(m);
    const split = axis === 0 ? coords[2 * m]! : coords[2 * m + 1]!;
    const goLeft = axis === 0 ? minX <= split : minY <= split;
    const goRight = axis === 0 ? maxX >= split : maxY >= split;
    const child = 1 - axis;
    const nearLeft = (axis === 0 ? lng : lat) < split;
    // Push the far child first (popped last, re-checked then), the near child last (popped next).
    if (nearLeft) {
      if (goRight) push(m + 1, right, child | 2 | 4, split);
      if (goLeft) push(left, m - 1, child, split);
    } else {
      if (goLeft) push(left, m - 1, child | 2, split);
      if (goRight) push(m + 1, right, child | 4, split);
    }
  }

  function push(l: number, r: number, c: number, split: number): void {
    ISTACK[3 * sp] = l;
    ISTACK[3 * sp + 1] = r;
    ISTACK[3 * sp + 2] = c;
    SSTACK[sp] = split;
    sp++;
  }
}
