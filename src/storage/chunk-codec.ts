// Time bucketing and the compact binary encoding of a chunk of one driver's fixes within one time slice.
import type { FixValue } from './fix-codec.js';
import type { FixBatch } from './fix-batch.js';

/** Partition bucket of fixes: one UTC day, ms. */
export const DAY_MS = 86_400_000;
/** A chunk holds fixes of one slice, ms. Fits the u16 offset below and divides a day. */
export const SLICE_MS = 60_000;
/** Partition bucket of the jobs-by-party index: 30 days, ms. */
export const PERIOD_MS = 30 * DAY_MS;
/** Largest |ts| stored, ms (the protocol's own bound): keeps days and periods inside int32. */
export const MAX_ABS_TS = 8.64e15;

const VERSION = 1;
const HAS_HDG = 1;
const HAS_SPD = 2;
const HAS_ACC = 4;

export const sliceOf = (ts: number): number => Math.floor(ts / SLICE_MS) * SLICE_MS;
export const dayOf = (ts: number): number => Math.floor(ts / DAY_MS);
export const periodOf = (ts: number): number => Math.floor(ts / PERIOD_MS);

/** Integer ms within the stored range: what the chunk layout can hold. */
export function isChunkableTs(ts: number): boolean {
  return Number.isSafeInteger(ts) && Math.abs(ts) <= MAX_ABS_TS;
}

/**
 * Layout: u8 version, u16 count, then per fix: u16 ms since the slice start, u8 presence bits
 * (hdg, spd, acc), f64 lat, f64 lng, then f64 for each present optional value. 19-43 bytes a fix;
 * values stay exact float64 so reads match the embedded adapter bit for bit.
 */
export function encodeChunk(slice: number, ts: readonly number[], vals: readonly FixValue[]): Buffer {
  let size = 3;
  for (const v of vals) size += 19 + (v[2] === null ? 0 : 8) + (v[3] === null ? 0 : 8) + (v[4] === null ? 0 : 8);
  const buf = Buffer.allocUnsafe(size);
  buf.writeUInt8(VERSION, 0);
  buf.writeUInt16LE(ts.length, 1);
  let o = 3;
  for (let i = 0; i < ts.length; i++) {
    const v = vals[i]!;
    const dt = ts[i]! - slice;
    if (!(dt >= 0 && dt < SLICE_MS)) throw new RangeError(`fix ts ${ts[i]} outside slice ${slice}`);
    o = buf.writeUInt16LE(dt, o);
    const mask = (v[2] === null ? 0 : HAS_HDG) | (v[3] === null ? 0 : HAS_SPD) | (v[4] === null ? 0 : HAS_ACC);
    o = buf.writeUInt8(mask, o);
    o = buf.writeDoubleLE(v[0], o);
    o = buf.writeDoubleLE(v[1], o);
    if (v[2] !== null) o = buf.writeDoubleLE(v[2], o);
    if (v[3] !== null) o = buf.writeDoubleLE(v[3], o);
    if (v[4] !== null) o = buf.writeDoubleLE(v[4], o);
  }
  return buf;
}

/** Bytes one fix takes in a chunk: 19, plus 8 for each finite optional value (hdg, spd, acc). */
export function chunkFixBytes(hdg: number, spd: number, acc: number): number {
  return 19 + (Number.isFinite(hdg) ? 8 : 0) + (Number.isFinite(spd) ? 8 : 0) + (Number.isFinite(acc) ? 8 : 0);
}

/**
 * encodeChunk from a FixBatch's columns: the `count` fixes linked from `head` through `next` (indices into
 * the batch, -1 ends), into `buf`, which must be exactly 3 + the sum of their chunkFixBytes. Same layout.
 */
export function encodeChunkInto(buf: Buffer, slice: number, b: FixBatch, head: number, count: number, next: Int32Array): void {
  buf[0] = VERSION;
  buf.writeUInt16LE(count, 1);
  let o = 3;
  for (let i = head; i >= 0; i = next[i]!) {
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
  }
  if (o !== buf.length) throw new RangeError(`fix chunk: wrote ${o} of ${buf.length} bytes`);
}

/** Calls `each(ts, value)` for every fix of a chunk, in stored order. Throws on a corrupt chunk. */
export function decodeChunk(slice: number, buf: Buffer, each: (ts: number, v: FixValue) => void): void {
  if (buf.length < 3 || buf.readUInt8(0) !== VERSION) throw new Error(`fix chunk: unknown format ${buf.length ? buf.readUInt8(0) : 'empty'}`);
  const n = buf.readUInt16LE(1);
  let o = 3;
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
