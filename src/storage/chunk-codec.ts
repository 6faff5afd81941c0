// The one binary encoding of a chunk (one driver's fixes within one 60 s slice), shared by the LMDB and Cassandra adapters.
import type { FixValue } from './fix-codec.js';
import type { FixBatch } from './fix-batch.js';

/** A chunk holds fixes of one slice, ms. Fits the u16 offset below and divides a day. */
export const SLICE_MS = 60_000;
/** Largest |ts| stored, ms (the protocol's own bound, the range of a JavaScript Date). */
export const MAX_ABS_TS = 8.64e15;
/** Bytes before a chunk's first fix: u8 version, u16 count. */
export const CHUNK_HEADER_BYTES = 3;
/** Most bytes one fix takes in a chunk (every optional value present). */
export const MAX_FIX_BYTES = 43;
/** Most fixes in one chunk (the count is a u16). */
export const MAX_CHUNK_COUNT = 0xffff;

const VERSION = 1;
const HAS_HDG = 1;
const HAS_SPD = 2;
const HAS_ACC = 4;

export const sliceOf = (ts: number): number => Math.floor(ts / SLICE_MS) * SLICE_MS;

/** Integer ms within the stored range: what the chunk layout can hold. */
export function isChunkableTs(ts: number): boolean {
  return Number.isSafeInteger(ts) && Math.abs(ts) <= MAX_ABS_TS;
}

/*
 * Layout: u8 version, u16 count, then per fix: u16 ms since the slice start, u8 presence bits
 * (hdg, spd, acc), f64 lat, f64 lng, then f64 for each present optional value. 19-43 bytes a fix;
 * values stay exact float64 so every adapter reads back bit for bit what ingest accepted. Fixes are
 * stored in arrival order and a ts may repeat (a resent fix): readers let the later copy win.
 * Both adapters store this format (LMDB values, Cassandra `fix_chunks.fixes`): changing it needs a
 * new VERSION that decodeChunk still reads next to this one.
 */

/** Bytes one fix takes in a chunk: 19, plus 8 for each finite optional value (hdg, spd, acc). */
export function chunkFixBytes(hdg: number, spd: number, acc: number): number {
  return 19 + (Number.isFinite(hdg) ? 8 : 0) + (Number.isFinite(spd) ? 8 : 0) + (Number.isFinite(acc) ? 8 : 0);
}

/** Writes a chunk's header (version, fix count) at the start of `buf`. */
export function writeChunkHeader(buf: Buffer, count: number): void {
  buf[0] = VERSION;
  buf.writeUInt16LE(count, 1);
}

/**
 * Writes fix `i` of the batch at offset `o` of `buf` (which must have chunkFixBytes of room) and returns
 * the offset after it. Throws a RangeError when the fix's ts is not within the slice.
 */
export function encodeFixInto(buf: Buffer, o: number, slice: number, b: FixBatch, i: number): number {
  const dt = b.ts[i]! - slice;
  if (!(dt >= 0 && dt < SLICE_MS)) throw new RangeError(`fix ts ${b.ts[i]} outside slice ${slice}`);
  const hdg = b.hdg[i]!, spd = b.spd[i]!, acc = b.acc[i]!;
  const hasH = Number.isFinite(hdg), hasS = Number.isFinite(spd), hasA = Number.isFinite(acc);
  buf[o] = dt & 0xff;
  buf[o + 1] = dt >>> 8;
  buf[o + 2] = (hasH ? HAS_HDG : 0) | (hasS ? HAS_SPD : 0) | (hasA ? HAS_ACC : 0);
  buf.writeDoubleLE(b.lat[i]!, o + 3);
  buf.writeDoubleLE(b.lng[i]!, o + 11);
  o += 19;
  if (hasH) o = buf.writeDoubleLE(hdg, o);
  if (hasS) o = buf.writeDoubleLE(spd, o);
  if (hasA) o = buf.writeDoubleLE(acc, o);
  return o;
}

/**
 * A whole chunk from a FixBatch's columns: the `count` fixes linked from `head` through `next` (indices into
 * the batch, -1 ends), into `buf`, which must be exactly CHUNK_HEADER_BYTES + the sum of their chunkFixBytes.
 */
export function encodeChunkInto(buf: Buffer, slice: number, b: FixBatch, head: number, count: number, next: Int32Array): void {
  writeChunkHeader(buf, count);
  let o = CHUNK_HEADER_BYTES;
  for (let i = head; i >= 0; i = next[i]!) o = encodeFixInto(buf, o, slice, b, i);
  if (o !== buf.length) throw new RangeError(`fix chunk: wrote ${o} of ${buf.length} bytes`);
}

/** Calls `each(ts, value)` for every fix of a chunk, in stored order. Throws on a corrupt chunk. */
export function decodeChunk(slice: number, buf: Buffer, each: (ts: number, v: FixValue) => void): void {
  if (buf.length < CHUNK_HEADER_BYTES || buf.readUInt8(0) !== VERSION) throw new Error(`fix chunk: unknown format ${buf.length ? buf.readUInt8(0) : 'empty'}`);
  const n = buf.readUInt16LE(1);
  let o = CHUNK_HEADER_BYTES;
  for (let i = 0; i < n; i++) {
    const ts = slice + buf.readUInt16LE(o);
    const mask = buf.readUInt8(o + 2);
    const lat = buf.readDoubleLE(o + 3);
    const lng = buf.readDoubleLE(o + 11);
    o += 19;
    let hdg: number | null = null;
    let spd: number | null = null;
    let acc: number | null = null;
    if (mask & HAS_HDG) (hdg = buf.readDoubleLE(o)), (o += 8);
    if (mask & HAS_SPD) (spd = buf.readDoubleLE(o)), (o += 8);
    if (mask & HAS_ACC) (acc = buf.readDoubleLE(o)), (o += 8);
    each(ts, [lat, lng, hdg, spd, acc]);
  }
  if (o !== buf.length) throw new Error(`fix chunk: ${buf.length - o} trailing bytes`);
}
