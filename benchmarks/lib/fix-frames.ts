// Pre-encoded driver fix frames: msgpack bytes built once, with lat/lng (float64), ts (uint64) and id (uint32)
// patched in place at fixed offsets, so the load generator never runs a msgpack encoder per fix.
import { clientHeaderLength } from './lean-ws.js';

class ByteWriter {
  private b = Buffer.alloc(256);
  n = 0;
  u8(v: number): void {
    this.ensure(1);
    this.b[this.n++] = v;
  }
  str(s: string): void {
    if (s.length > 31) throw new Error('fixstr only');
    this.u8(0xa0 | s.length);
    for (let i = 0; i < s.length; i++) this.u8(s.charCodeAt(i));
  }
  /** Reserve `k` bytes; returns their offset. */
  reserve(k: number): number {
    this.ensure(k);
    const at = this.n;
    this.n += k;
    return at;
  }
  done(): Buffer {
    return Buffer.from(this.b.subarray(0, this.n));
  }
  private ensure(k: number): void {
    if (this.n + k > this.b.length) {
      const nb = Buffer.alloc(this.b.length * 2 + k);
      this.b.copy(nb);
      this.b = nb;
    }
  }
}

/** A client frame template for `{t:"loc", lat, lng, ts[, id]}` and the offsets of its patchable fields. */
export interface LocTemplate {
  frame: Buffer;
  latOff: number;
  lngOff: number;
  tsOff: number;
  /** -1 without an id field. */
  idOff: number;
}

export function locTemplate(withId: boolean): LocTemplate {
  const w = new ByteWriter();
  w.u8(0x80 | (withId ? 5 : 4));
  w.str('t');
  w.str('loc');
  w.str('lat');
  w.u8(0xcb);
  const lat = w.reserve(8);
  w.str('lng');
  w.u8(0xcb);
  const lng = w.reserve(8);
  w.str('ts');
  w.u8(0xcf);
  const ts = w.reserve(8);
  let id = -1;
  if (withId) {
    w.str('id');
    w.u8(0xce);
    id = w.reserve(4);
  }
  const payload = w.done();
  const h = clientHeaderLength(payload.length);
  const frame = Buffer.alloc(h + payload.length);
  frame[0] = 0x82;
  frame[1] = 0x80 | payload.length; // < 126
  payload.copy(frame, h);
  return { frame, latOff: h + lat, lngOff: h + lng, tsOff: h + ts, idOff: withId ? h + id : -1 };
}

/** Write a uint64 msgpack body (8 bytes big-endian) for a non-negative safe integer. */
export function writeU64(b: Buffer, v: number, at: number): void {
  b.writeUInt32BE(Math.floor(v / 4294967296), at);
  b.writeUInt32BE(v >>> 0, at + 4);
}

/** Copy a loc template into `b` at `at` and patch it. Returns the bytes written. */
export function putLoc(b: Buffer, at: number, t: LocTemplate, lat: number, lng: number, ts: number, id: number): number {
  t.frame.copy(b, at);
  b.writeDoubleBE(lat, at + t.latOff);
  b.writeDoubleBE(lng, at + t.lngOff);
  writeU64(b, ts, at + t.tsOff);
  if (t.idOff >= 0) b.writeUInt32BE(id >>> 0, at + t.idOff);
  return t.frame.length;
}

/**
 * A `{t:"locs", pts:[[ts,lat,lng] × n][, id]}` frame template: each point is a fixarray of uint64 + 2 float64
 * (28 bytes); point i's ts sits at ptsOff + 28 i + 2, lat at + 11, lng at + 20.
 */
export interface LocsTemplate {
  frame: Buffer;
  ptsOff: number;
  idOff: number;
  n: number;
}

export function locsTemplate(n: number, withId: boolean): LocsTemplate {
  if (n < 1 || n > 1000) throw new RangeError('locs batch must hold 1-1000 points');
  const w = new ByteWriter();
  w.u8(0x80 | (withId ? 3 : 2));
  w.str('t');
  w.str('locs');
  let id = -1;
  if (withId) {
    w.str('id');
    w.u8(0xce);
    id = w.reserve(4);
  }
  w.str('pts');
  if (n < 16) w.u8(0x90 | n);
  else {
    w.u8(0xdc);
    w.u8(n >> 8);
    w.u8(n & 0xff);
  }
  const pts = w.n;
  for (let i = 0; i < n; i++) {
    w.u8(0x93);
    w.u8(0xcf);
    w.reserve(8);
    w.u8(0xcb);
    w.reserve(8);
    w.u8(0xcb);
    w.reserve(8);
  }
  const payload = w.done();
  const h = clientHeaderLength(payload.length);
  const frame = Buffer.alloc(h + payload.length);
  frame[0] = 0x82;
  if (payload.length < 126) frame[1] = 0x80 | payload.length;
  else {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(payload.length, 2);
  }
  payload.copy(frame, h);
  return { frame, ptsOff: h + pts, idOff: withId ? h + id : -1, n };
}

export const LOCS_POINT_BYTES = 28;
