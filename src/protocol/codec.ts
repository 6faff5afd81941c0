// msgpack codec for WebSocket frames: standard msgpack only, int64 as number, one map per frame.
import { C1, Packr, Unpackr } from 'msgpackr';
import { ProtocolError } from './errors.js';

// Decoding: plain objects for maps, uint64/int64 as JS numbers (ts in ms fits in 2^53), no records.
const unpackr = new Unpackr({ mapsAsObjects: true, useRecords: false, int64AsType: 'number', moreTypes: false });
// Encoding: standard msgpack (no records/extensions; undefined fields are left out rather than sent as an
// extension) so any client library can read our frames.
// `skipValues` is a msgpackr option missing from its type definitions.
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true, skipValues: [undefined] } as ConstructorParameters<typeof Packr>[0]);

/**
 * A millisecond time as a msgpack integer. msgpackr writes numbers above 2^32 as float64; times are
 * integers in the protocol, so frames carry them as BigInt, which msgpackr writes as a 64-bit integer.
 */
export function msInt(ms: number): bigint {
  return BigInt(Math.trunc(ms));
}

/** Encode one server frame. The returned Buffer may be shared by every subscriber it is sent to. */
export function encodeFrame(msg: object): Buffer {
  return packr.pack(msg);
}

/**
 * Decode one client frame into a plain object. Throws ProtocolError('bad_frame') when the bytes are not
 * exactly one msgpack map. The input is not retained.
 */
export function decodeFrame(data: ArrayBuffer | Uint8Array): Record<string, unknown> {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (bytes.length === 0) throw new ProtocolError('bad_frame', 'empty frame');
  // A msgpack map starts with fixmap (0x80-0x8f), map16 (0xde) or map32 (0xdf): reject anything else early.
  const b0 = bytes[0]!;
  if (!((b0 >= 0x80 && b0 <= 0x8f) || b0 === 0xde || b0 === 0xdf)) {
    throw new ProtocolError('bad_frame', 'frame is not a msgpack map');
  }
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch (e) {
    throw new ProtocolError('bad_frame', 'frame is not valid msgpack: ' + String((e as Error).message).slice(0, 80));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Map) {
    throw new ProtocolError('bad_frame', 'frame is not a msgpack map');
  }
  // msgpackr decodes the reserved byte 0xc1 to a marker object instead of failing. The byte search is
  // native and most frames lack the byte, so the walk runs rarely (and then over an already small frame).
  if (bytes.indexOf(0xc1) !== -1 && holdsC1(value)) throw new ProtocolError('bad_frame', 'frame is not valid msgpack: reserved byte 0xc1');
  return value as Record<string, unknown>;
}

/** True when msgpackr's 0xc1 marker is anywhere in a decoded value (maps decode to plain objects). */
function holdsC1(v: unknown): boolean {
  if (v === C1) return true;
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (holdsC1(v[i])) return true;
    return false;
  }
  for (const k in v) if (holdsC1((v as Record<string, unknown>)[k])) return true;
  return false;
}
