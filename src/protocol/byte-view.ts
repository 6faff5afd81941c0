// Big-endian number readers over a Uint8Array, for the allocation-free frame readers (fast-loc, locs-peek).
//
// No DataView: uWS hands each message in a new ArrayBuffer, so a cached DataView never matched and one was
// built per frame; that constructor was the largest single JS cost of flat-out ingest (1.07 s of 16.4 s busy
// in the CPU profile of `bench ingest --mode flat` at commit e43b763, 2026-12-05). Floats go through an 8-byte
// scratch shared by a Float64Array and a Float32Array view, filled in the machine's byte order.

const F64 = new Float64Array(1);
const F32 = new Float32Array(F64.buffer);
const S = new Uint8Array(F64.buffer);
/** True on little-endian machines (every platform Node supports but s390x). */
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Unsigned 16-bit at b[i..i+1]. */
export function readU16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

/** Unsigned 32-bit at b[i..i+3]. */
export function readU32(b: Uint8Array, i: number): number {
  return b[i]! * 0x100_0000 + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);
}

/** Signed 8-bit at b[i]. */
export function readI8(b: Uint8Array, i: number): number {
  return (b[i]! << 24) >> 24;
}

/** Signed 16-bit at b[i..i+1]. */
export function readI16(b: Uint8Array, i: number): number {
  return (((b[i]! << 8) | b[i + 1]!) << 16) >> 16;
}

/** Signed 32-bit at b[i..i+3]. */
export function readI32(b: Uint8Array, i: number): number {
  return (b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!;
}

/** IEEE 754 binary32 at b[i..i+3]. */
export function readF32(b: Uint8Array, i: number): number {
  if (LE) {
    S[0] = b[i + 3]!; S[1] = b[i + 2]!; S[2] = b[i + 1]!; S[3] = b[i]!;
  } else {
    S[0] = b[i]!; S[1] = b[i + 1]!; S[2] = b[i + 2]!; S[3] = b[i + 3]!;
  }
  return F32[0]!;
}

/** IEEE 754 binary64 at b[i..i+7], every bit kept (NaN payloads aside). */
export function readF64(b: Uint8Array, i: number): number {
  if (LE) {
    S[0] = b[i + 7]!; S[1] = b[i + 6]!; S[2] = b[i + 5]!; S[3] = b[i + 4]!;
    S[4] = b[i + 3]!; S[5] = b[i + 2]!; S[6] = b[i + 1]!; S[7] = b[i]!;
  } else {
    for (let k = 0; k < 8; k++) S[k] = b[i + k]!;
  }
  return F64[0]!;
}
