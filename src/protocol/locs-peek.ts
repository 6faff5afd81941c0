// Reads a `locs` frame's `id` and point count without decoding its points, so a frame that will be refused
// whole (the driver's fix budget is spent) costs a byte walk instead of a decode of up to 1,000 points.
import { readF32, readF64, readI16, readI32, readI8, readU16, readU32 } from './byte-view.js';

/** What `peekLocs` found: the point count and the frame's `id` (NaN without one). */
export class LocsPeek {
  count = 0;
  id = NaN;
}

/** The 5 bytes of fixstr "locs": a4 6c 6f 63 73. */
const LOCS = [0xa4, 0x6c, 0x6f, 0x63, 0x73] as const;

/**
 * True when `b` is one well-formed msgpack map holding exactly `t: "locs"`, `pts` (an array of at most
 * `maxPoints` values) and optionally `id` (a safe integer), with no trailing bytes, no extension types
 * and no reserved byte; `out` then holds the count and id. False for anything else (the frame then takes
 * the general decode, which reports what is wrong). The points themselves are only walked, not read.
 * Never throws, allocates nothing.
 */
export function peekLocs(b: Uint8Array, maxPoints: number, out: LocsPeek): boolean {
  const len = b.length;
  const h = b[0];
  let n: number;
  let p: number;
  if (h === undefined) return false;
  if (h >= 0x82 && h <= 0x83) {
    n = h & 0x0f;
    p = 1;
  } else if (h === 0xde && len >= 3) {
    n = (b[1]! << 8) | b[2]!;
    p = 3;
  } else return false;
  if (n < 2 || n > 3) return false;
  let seen = 0;
  out.id = NaN;
  for (let i = 0; i < n; i++) {
    const k = b[p];
    if (k === 0xa1 && b[p + 1] === 0x74 && !(seen & 1)) {
      // t: must be the fixstr "locs"
      for (let j = 0; j < 5; j++) if (b[p + 2 + j] !== LOCS[j]) return false;
      p += 7;
      seen |= 1;
    } else if (k === 0xa3 && b[p + 1] === 0x70 && b[p + 2] === 0x74 && b[p + 3] === 0x73 && !(seen & 2)) {
      // pts: an array header, then its values walked
      p += 4;
      const a = b[p];
      let count: number;
      if (a === undefined) return false;
      if (a >= 0x90 && a <= 0x9f) {
        count = a & 0x0f;
        p += 1;
      } else if (a === 0xdc && p + 3 <= len) {
        count = (b[p + 1]! << 8) | b[p + 2]!;
        p += 3;
      } else return false;
      if (count > maxPoints) return false;
      p = skipValues(b, p, count);
      if (p < 0) return false;
      out.count = count;
      seen |= 2;
    } else if (k === 0xa2 && b[p + 1] === 0x69 && b[p + 2] === 0x64 && !(seen & 4)) {
      p += 3;
      const q = readInt(b, p, out);
      if (q < 0) return false;
      p = q;
      seen |= 4;
    } else return false;
  }
  return (seen & 3) === 3 && p === len;
}

/** Read an integer value at `p` into `out.id`; the position after it, or -1 when it is not a safe integer. */
function readInt(b: Uint8Array, p: number, out: LocsPeek): number {
  const len = b.length;
  const h = b[p];
  if (h === undefined) return -1;
  if (h <= 0x7f) {
    out.id = h;
    return p + 1;
  }
  if (h >= 0xe0) {
    out.id = h - 0x100;
    return p + 1;
  }
  const size = h === 0xcc || h === 0xd0 ? 1 : h === 0xcd || h === 0xd1 ? 2 : h === 0xce || h === 0xd2 || h === 0xca ? 4 : h === 0xcf || h === 0xd3 || h === 0xcb ? 8 : 0;
  if (size === 0 || p + 1 + size > len) return -1;
  const o = p + 1;
  let v: number;
  switch (h) {
    case 0xcc: v = b[o]!; break;
    case 0xcd: v = readU16(b, o); break;
    case 0xce: v = readU32(b, o); break;
    case 0xcf: v = readU32(b, o) * 0x1_0000_0000 + readU32(b, o + 4); break;
    case 0xd0: v = readI8(b, o); break;
    case 0xd1: v = readI16(b, o); break;
    case 0xd2: v = readI32(b, o); break;
    case 0xd3: v = readI32(b, o) * 0x1_0000_0000 + readU32(b, o + 4); break;
    case 0xca: v = readF32(b, o); break;
    default: v = readF64(b, o);
  }
  if (!Number.isSafeInteger(v)) return -1;
  out.id = v;
  return p + 1 + size;
}

/**
 * Walk `count` msgpack values from `p` without reading them: the position after them, or -1 when the
 * bytes end early or hold an extension type or the reserved byte 0xc1. Iterative (a counter of values
 * still to walk), so deep nesting cannot overflow the stack.
 */
export function skipValues(b: Uint8Array, p: number, count: number): number {
  const len = b.length;
  let need = count;
  while (need > 0) {
    if (p >= len) return -1;
    const h = b[p]!;
    need--;
    if (h <= 0x7f || h >= 0xe0 || h === 0xc0 || h === 0xc2 || h === 0xc3) p += 1;
    else if (h <= 0x8f) { need += 2 * (h & 0x0f); p += 1; } // fixmap
    else if (h <= 0x9f) { need += h & 0x0f; p += 1; } // fixarray
    else if (h <= 0xbf) p += 1 + (h & 0x1f); // fixstr
    else if (h === 0xcb || h === 0xcf || h === 0xd3) p += 9;
    else if (h === 0xca || h === 0xce || h === 0xd2) p += 5;
    else if (h === 0xcd || h === 0xd1) p += 3;
    else if (h === 0xcc || h === 0xd0) p += 2;
    else {
      // Variable lengths: the header's length field must be there before it is read.
      const lenBytes = h === 0xc4 || h === 0xd9 ? 1 : h === 0xc5 || h === 0xda || h === 0xdc || h === 0xde ? 2 : h === 0xc6 || h === 0xdb || h === 0xdd || h === 0xdf ? 4 : 0;
      if (lenBytes === 0 || p + 1 + lenBytes > len) return -1; // 0xc1, ext types
      const o = p + 1;
      const v = lenBytes === 1 ? b[o]! : lenBytes === 2 ? readU16(b, o) : readU32(b, o);
      p += 1 + lenBytes;
      if (h === 0xdc || h === 0xdd) need += v;
      else if (h === 0xde || h === 0xdf) need += 2 * v;
      else p += v;
    }
    // A count beyond what the remaining bytes could hold is malformed: stop before walking it.
    if (need > len - p) return -1;
  }
  return p <= len ? p : -1;
}
