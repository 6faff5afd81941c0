// The column grouper both adapters use: a FixBatch's fixes grouped by driver and time slice, with no object per fix.
import { CHUNK_HEADER_BYTES, encodeChunkInto, chunkFixBytes, isChunkableTs, sliceOf } from './chunk-codec.js';
import type { FixBatch } from './fix-batch.js';

/** Most fixes in one group (the codec counts a chunk's fixes in a u16). */
export const MAX_CHUNK_FIXES = 60_000;

/** Receives one encoded chunk: the driver, the slice start (ms), the bytes and how many fixes they hold. */
export type ChunkSink = (driver: string, slice: number, chunk: Buffer, fixes: number) => void;

/**
 * Reused across batches (single-threaded, not re-entrant). Per batch: one Map lookup per fix (an array
 * read when the batch has driver keys) to find the driver's group, and a linked list of fix indices per
 * group (typed arrays). `group` leaves the groups readable until its next call: LMDB encodes each group
 * as one chunk (`encode`), Cassandra appends each group to the driver's open chunk. Fixes keep their
 * arrival order inside a group (the read side lets a later copy of a ts win, so order matters).
 */
export class ChunkGrouper {
  /** driver → its newest group in this batch; older groups of the same driver chain through gPrev. */
  private readonly byDriver = new Map<string, number>();
  private groupCount = 0;
  private chunkBytes = 0;
  private gDriver: string[] = [];
  private gSlice: Float64Array = new Float64Array(256);
  private gHead: Int32Array = new Int32Array(256);
  private gTail: Int32Array = new Int32Array(256);
  private gCount: Int32Array = new Int32Array(256);
  private gBytes: Int32Array = new Int32Array(256);
  private gPrev: Int32Array = new Int32Array(256);
  private nextIx: Int32Array = new Int32Array(1024);
  /** By driver key: its newest group, valid when keyStamp[key] equals this call's stamp (no clearing). */
  private keyGroup: Int32Array = new Int32Array(1024);
  private keyStamp: Int32Array = new Int32Array(1024);
  private stamp = 0;

  /**
   * Groups the fixes of `b` by (driver, slice), at most MAX_CHUNK_FIXES a group. Fixes that are not
   * storable (`skip(i)` true) or whose ts cannot be chunked are left out and counted in the result.
   */
  group(b: FixBatch, skip: ((i: number) => boolean) | null): number {
    this.reset();
    const n = b.length;
    if (this.nextIx.length < n) this.nextIx = new Int32Array(Math.max(n, this.nextIx.length * 2));
    const next = this.nextIx;
    const byDriver = this.byDriver;
    const stamp = ++this.stamp;
    let left = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const ts = b.ts[i]!;
      if ((skip !== null && skip(i)) || !isChunkableTs(ts)) {
        left++;
        continue;
      }
      const d = b.drivers[i]!;
      const slice = sliceOf(ts);
      // The driver's newest group: by its dense key when the batch has one (an array read), else by name.
      // A key reused by another driver within the batch (slot freed and taken) falls back to the Map.
      const k = b.keys[i]!;
      let byKey = false;
      let g = -1;
      if (k >= 0) {
        if (k >= this.keyStamp.length) this.growKeys(k);
        if (this.keyStamp[k] !== stamp) byKey = true;
        else if (this.gDriver[(g = this.keyGroup[k]!)] === d) byKey = true;
        else g = byDriver.get(d) ?? -1;
      } else g = byDriver.get(d) ?? -1;
      // Walk this driver's groups (almost always one) for the slice, skipping full ones.
      let h = g;
      while (h >= 0 && (this.gSlice[h] !== slice || this.gCount[h]! >= MAX_CHUNK_FIXES)) h = this.gPrev[h]!;
      if (h < 0) {
        h = this.newGroup(d, slice, g);
        if (byKey) {
          this.keyStamp[k] = stamp;
          this.keyGroup[k] = h;
        } else byDriver.set(d, h);
        this.gHead[h] = i;
      } else next[this.gTail[h]!] = i;
      next[i] = -1;
      this.gTail[h] = i;
      this.gCount[h]!++;
      const bytes = chunkFixBytes(b.hdg[i]!, b.spd[i]!, b.acc[i]!);
      this.gBytes[h]! += bytes;
      total += bytes;
    }
    this.chunkBytes = total + CHUNK_HEADER_BYTES * this.groupCount;
    return left;
  }

  /** Groups found by the last `group` call, numbered 0..groups-1 in order of first appearance. */
  get groups(): number {
    return this.groupCount;
  }

  /** Bytes the last call's groups take as chunks, headers included. */
  get totalBytes(): number {
    return this.chunkBytes;
  }

  /** next[i]: the batch index after fix i in its group, -1 at the end (for the last call's grouped fixes). */
  get next(): Int32Array {
    return this.nextIx;
  }

  /** Group h's driver id. */
  driverOf(h: number): string {
    return this.gDriver[h]!;
  }

  /** Group h's slice start, ms. */
  sliceAt(h: number): number {
    return this.gSlice[h]!;
  }

  /** Group h's first fix (an index into the batch); follow `next` for the others. */
  headOf(h: number): number {
    return this.gHead[h]!;
  }

  /** Fixes in group h. */
  countOf(h: number): number {
    return this.gCount[h]!;
  }

  /**
   * Calls `sink` once per (driver, slice) chunk of `b`, in order of first appearance, with its encoded
   * bytes: views into one Buffer for the whole batch. Returns how many fixes were left out (see `group`).
   */
  encode(b: FixBatch, skip: ((i: number) => boolean) | null, sink: ChunkSink): number {
    const left = this.group(b, skip);
    const next = this.nextIx;
    if (this.groupCount > 0) {
      const buf = Buffer.allocUnsafe(this.chunkBytes);
      let at = 0;
      for (let h = 0; h < this.groupCount; h++) {
        const size = CHUNK_HEADER_BYTES + this.gBytes[h]!;
        const chunk = buf.subarray(at, at + size);
        encodeChunkInto(chunk, this.gSlice[h]!, b, this.gHead[h]!, this.gCount[h]!, next);
        at += size;
        sink(this.gDriver[h]!, this.gSlice[h]!, chunk, this.gCount[h]!);
      }
    }
    return left;
  }

  private newGroup(driver: string, slice: number, prev: number): number {
    const h = this.groupCount++;
    if (h === this.gSlice.length) this.grow();
    this.gDriver[h] = driver;
    this.gSlice[h] = slice;
    this.gCount[h] = 0;
    this.gBytes[h] = 0;
    this.gPrev[h] = prev;
    return h;
  }

  private reset(): void {
    this.byDriver.clear();
    this.gDriver.length = 0;
    this.groupCount = 0;
    this.chunkBytes = 0;
  }

  private growKeys(k: number): void {
    const c = Math.max(k + 1, this.keyStamp.length * 2);
    const g = new Int32Array(c);
    g.set(this.keyGroup);
    this.keyGroup = g;
    const st = new Int32Array(c);
    st.set(this.keyStamp);
    this.keyStamp = st;
  }

  private grow(): void {
    const c = this.gSlice.length * 2;
    const f = new Float64Array(c);
    f.set(this.gSlice);
    this.gSlice = f;
    const i32 = (a: Int32Array): Int32Array => {
      const x = new Int32Array(c);
      x.set(a);
      return x;
    };
    this.gHead = i32(this.gHead);
    this.gTail = i32(this.gTail);
    this.gCount = i32(this.gCount);
    this.gBytes = i32(this.gBytes);
    this.gPrev = i32(this.gPrev);
  }
}
