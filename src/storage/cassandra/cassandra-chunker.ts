// Gathers accepted fixes into per-driver, per-slice chunks and seals them by age or size into write items.
import cassandra from 'cassandra-driver';
import { CHUNK_HEADER_BYTES, MAX_CHUNK_COUNT, MAX_FIX_BYTES, encodeFixInto, writeChunkHeader } from '../chunk-codec.js';
import { ChunkGrouper } from '../chunk-grouper.js';
import type { FixBatch } from '../fix-batch.js';
import { dayOf } from './cassandra-buckets.js';
import type { ChunkItem } from './cassandra-items.js';

/** Room for this many fixes in a new open chunk (it doubles as needed): at 1 Hz and chunkMs 5 s, ~5 are typical. */
const INITIAL_FIXES = 8;
/** What a sealed chunk keeps as its working buffer. */
const EMPTY = Buffer.alloc(0);

/** A chunk still taking fixes: their encoded bytes so far, in arrival order, after room for the header. */
class OpenChunk {
  buf: Buffer;
  /** Bytes written, header room included. */
  used = CHUNK_HEADER_BYTES;
  n = 0;
  sealed = false;

  constructor(
    readonly driver: string,
    readonly slice: number,
    /** When the first fix arrived, ms (server clock). */
    readonly openedAt: number,
    /** The driver's next older open chunk (another slice), or null. */
    public older: OpenChunk | null,
  ) {
    this.buf = Buffer.allocUnsafe(CHUNK_HEADER_BYTES + INITIAL_FIXES * MAX_FIX_BYTES);
  }

  /** Appends fix i of the batch (its ts is in this chunk's slice). */
  append(b: FixBatch, i: number): void {
    if (this.buf.length - this.used < MAX_FIX_BYTES) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    this.used = encodeFixInto(this.buf, this.used, this.slice, b, i);
    this.n++;
  }
}

export interface ChunkerOptions {
  /** A chunk is sealed this long after its first fix: the bound on "queryable after", ms. */
  chunkMs: number;
  /** A chunk is sealed at once at this many fixes (at most 65,535, the codec's count). */
  maxChunkFixes: number;
}

/**
 * Groups each batch with the shared column grouper (no object per fix) and appends every group's fixes,
 * encoded in the shared chunk format, to its driver's open chunk for that slice: one Map lookup per
 * group. Fixes stay in arrival order and a resent (driver, ts) is stored again, as in the LMDB adapter:
 * readers let the later copy win, so a chunk needs no sorting or de-duplication when sealed.
 */
export class FixChunker {
  /** driver → its newest open chunk; older open chunks of the driver (other slices) chain through `older`. */
  private readonly newest = new Map<string, OpenChunk>();
  /** Open chunks in opening order (sealed ones are skipped), so due chunks are at the front. */
  private queue: Array<OpenChunk | null> = [];
  private head = 0;
  private fixes = 0;
  private readonly grouper = new ChunkGrouper();
  private readonly maxFixes: number;

  constructor(private readonly opts: ChunkerOptions, private readonly onSealed: (c: ChunkItem) => void) {
    this.maxFixes = Math.max(1, Math.min(Math.floor(opts.maxChunkFixes), MAX_CHUNK_COUNT));
  }

  /** Fixes held in open chunks. */
  get size(): number {
    return this.fixes;
  }

  /** Copies the fixes in; returns how many were not storable (dropped). */
  add(b: FixBatch, nowMs: number): number {
    const g = this.grouper;
    const invalid = g.group(b, (i) => !b.isStorable(i));
    const next = g.next;
    for (let h = 0; h < g.groups; h++) {
      const driver = g.driverOf(h);
      const slice = g.sliceAt(h);
      let c = this.find(driver, slice);
      for (let i = g.headOf(h); i >= 0; i = next[i]!) {
        if (c === null) c = this.openChunk(driver, slice, nowMs);
        c.append(b, i);
        this.fixes++;
        if (c.n >= this.maxFixes) {
          this.seal(c);
          c = null;
        }
      }
    }
    return invalid;
  }

  /** Seals chunks opened at least chunkMs before `nowMs`. */
  sealDue(nowMs: number): void {
    const q = this.queue;
    while (this.head < q.length) {
      const c = q[this.head]!;
      if (!c.sealed) {
        if (nowMs - c.openedAt < this.opts.chunkMs) break;
        this.seal(c);
      }
      q[this.head++] = null;
    }
    if (this.head === q.length) {
      q.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
  }

  sealAll(): void {
    for (let k = this.head; k < this.queue.length; k++) {
      const c = this.queue[k]!;
      if (!c.sealed) this.seal(c);
    }
    this.queue.length = 0;
    this.head = 0;
  }

  private find(driver: string, slice: number): OpenChunk | null {
    let c = this.newest.get(driver) ?? null;
    while (c !== null && c.slice !== slice) c = c.older;
    return c;
  }

  private openChunk(driver: string, slice: number, nowMs: number): OpenChunk {
    const c = new OpenChunk(driver, slice, nowMs, this.newest.get(driver) ?? null);
    this.newest.set(driver, c);
    this.queue.push(c);
    return c;
  }

  private seal(c: OpenChunk): void {
    c.sealed = true;
    const top = this.newest.get(c.driver)!;
    if (top === c) {
      if (c.older) this.newest.set(c.driver, c.older);
      else this.newest.delete(c.driver);
    } else {
      let x = top;
      while (x.older !== c) x = x.older!;
      x.older = c.older;
    }
    c.older = null;
    this.fixes -= c.n;
    writeChunkHeader(c.buf, c.n);
    // An exact-size copy: the open chunk's spare room is not carried through the queue and the spool.
    const blob = Buffer.allocUnsafe(c.used);
    c.buf.copy(blob, 0, 0, c.used);
    c.buf = EMPTY;
    // The timeuuid is taken now: a chunk sealed later sorts later, so its values win on read.
    const id = cassandra.types.TimeUuid.now().toString();
    this.onSealed({ kind: 'chunk', driver: c.driver, day: dayOf(c.slice), slice: c.slice, id, n: c.n, blob });
  }
}
