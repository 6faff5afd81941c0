// Allocation-free decoder for the hottest frame, `{t:"loc", lat, lng, ts, hdg?, spd?, acc?, id?}`.
// Anything it does not recognise (other types, other keys, odd encodings) returns NOT_LOC and the frame
// takes the general msgpackr path, so behaviour is identical; this only skips the per-frame objects.
import { readF32, readF64, readI16, readI32, readI8, readU16, readU32 } from './byte-view.js';

/** Decoded fields of a loc frame; optional ones are NaN when absent, `id` is NaN without an id. */
export class LocScratch {
  ts = 0;
  lat = 0;
  lng = 0;
  hdg = NaN;
  spd = NaN;
  acc = NaN;
  id = NaN;
  /** Bit set of the required fields seen: ts 1, lat 2, lng 4. */
  seen = 0;
}

export const LOC_OK = 1;
export const NOT_LOC = 0;

const K_T = 0x74; // "t"
/** The 4 bytes of fixstr "loc": a3 6c 6f 63. */
const LOC0 = 0xa3, LOC1 = 0x6c, LOC2 = 0x6f, LOC3 = 0x63;

/**
 * Decode `b` into `out` if it is a plain loc frame whose values are all numbers (or nil for optional
 * ones). Returns LOC_OK or NOT_LOC; never throws. Range checks are left to the caller (checkFix).
 */
export function decodeLoc(b: Uint8Array, out: LocScratch): number {
  const len = b.length;
  if (len < 8) return NOT_LOC;
  const h = b[0]!;
  let n: number;
  let p: number;
  if (h >= 0x84 && h <= 0x88) {
    n = h & 0x0f; // fixmap
    p = 1;
  } else if (h === 0xde) {
    n = (b[1]! << 8) | b[2]!; // map16, as msgpackr writes maps by default
    p = 3;
  } else return NOT_LOC;
  if (n < 4 || n > 8) return NOT_LOC;
  let isLoc = false;
  out.hdg = out.spd = out.acc = out.id = NaN;
  out.seen = 0;
  for (let i = 0; i < n; i++) {
    if (p + 2 > len) return NOT_LOC;
    const kh = b[p]!;
    const kl = kh - 0xa0; // fixstr length
    if (kl < 1 || kl > 3 || p + 1 + kl > len) return NOT_LOC;
    const k0 = b[p + 1]!;
    const k1 = kl > 1 ? b[p + 2]! : 0;
    const k2 = kl > 2 ? b[p + 3]! : 0;
    p += 1 + kl;
    if (kl === 1 && k0 === K_T) {
      if (p + 4 > len || b[p] !== LOC0 || b[p + 1] !== LOC1 || b[p + 2] !== LOC2 || b[p + 3] !== LOC3) return NOT_LOC;
      p += 4;
      isLoc = true;
      continue;
    }
    // Read a number value (or nil).
    if (p >= len) return NOT_LOC;
    const vh = b[p]!;
    let v: number;
    if (vh <= 0x7f) { v = vh; p += 1; }
    else if (vh >= 0xe0) { v = vh - 0x100; p += 1; }
    else if (vh === 0xcb) { if (p + 9 > len) return NOT_LOC; v = readF64(b, p + 1); p += 9; }
    else if (vh === 0xca) { if (p + 5 > len) return NOT_LOC; v = readF32(b, p + 1); p += 5; }
    else if (vh === 0xcc) { if (p + 2 > len) return NOT_LOC; v = b[p + 1]!; p += 2; }
    else if (vh === 0xcd) { if (p + 3 > len) return NOT_LOC; v = readU16(b, p + 1); p += 3; }
    else if (vh === 0xce) { if (p + 5 > len) return NOT_LOC; v = readU32(b, p + 1); p += 5; }
    else if (vh === 0xcf) { if (p + 9 > len) return NOT_LOC; v = readU32(b, p + 1) * 4294967296 + readU32(b, p + 5); p += 9; }
    else if (vh === 0xd0) { if (p + 2 > len) return NOT_LOC; v = readI8(b, p + 1); p += 2; }
    else if (vh === 0xd1) { if (p + 3 > len) return NOT_LOC; v = readI16(b, p + 1); p += 3; }
    else if (vh === 0xd2) { if (p + 5 > len) return NOT_LOC; v = readI32(b, p + 1); p += 5; }
    else if (vh === 0xd3) { if (p + 9 > len) return NOT_LOC; v = readI32(b, p + 1) * 4294967296 + readU32(b, p + 5); p += 9; }
    else if (vh === 0xc0) { v = NaN; p += 1; }
    else return NOT_LOC;
    if (kl === 2 && k0 === 0x74 && k1 === 0x73) { if (v !== v) return NOT_LOC; out.ts = v; out.seen |= 1; } // ts
    else if (kl === 3 && k0 === 0x6c && k1 === 0x61 && k2 === 0x74) { if (v !== v) return NOT_LOC; out.lat = v; out.seen |= 2; } // lat
    else if (kl === 3 && k0 === 0x6c && k1 === 0x6e && k2 === 0x67) { if (v !== v) return NOT_LOC; out.lng = v; out.seen |= 4; } // lng
    // Optional fields: nil is "absent" (NaN here), but a float NaN is a bad value, which the general path
    // refuses with bad_request exactly as it does inside `locs`.
    else if (kl === 3 && k0 === 0x68 && k1 === 0x64 && k2 === 0x67) { if (v !== v && vh !== 0xc0) return NOT_LOC; out.hdg = v; } // hdg
    else if (kl === 3 && k0 === 0x73 && k1 === 0x70 && k2 === 0x64) { if (v !== v && vh !== 0xc0) return NOT_LOC; out.spd = v; } // spd
    else if (kl === 3 && k0 === 0x61 && k1 === 0x63 && k2 === 0x63) { if (v !== v && vh !== 0xc0) return NOT_LOC; out.acc = v; } // acc
    else if (kl === 2 && k0 === 0x69 && k1 === 0x64) { if (v !== v || !Number.isSafeInteger(v)) return NOT_LOC; out.id = v; } // id
    else return NOT_LOC;
  }
  // Trailing bytes or missing fields: let the general path produce the exact error.
  return isLoc && p === len && out.seen === 7 ? LOC_OK : NOT_LOC;
}
