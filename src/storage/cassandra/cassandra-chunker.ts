// Groups accepted fixes into per-driver, per-slice chunks and seals them by age or size into write items.
import cassandra from 'cassandra-driver';
import { dayOf, encodeChunk, isChunkableTs, sliceOf } from '../chunk-codec.js';
import type { ChunkItem } from './cassandra-items.js';
import { encodeFix, isStorableFix, type FixValue } from '../fix-codec.js';
import type { StoredFix } from '../ports.js';

interface OpenChunk {
  driver: string;
  slice: number;
  /** When the first fix arrived, ms (server clock). */
  openedAt: number;
  ts: number[];
  vals: FixValue[];
  sorted: boolean;
}

export interface ChunkerOptions {
  /** A chunk is sealed this long after its first fix: the bound on "queryable after", ms. */
  chunkMs: number;
  /** A chunk is sealed at once at this many fixes. */
  maxChunkFixes: number;
}

export class FixChunker {
  /** Key driver + "\0" + slice. Insertion order is opening order, so due chunks are at the front. */
  private readonly open = new Map<string, OpenChunk>();
  private fixes = 0;

  constructor(private readonly opts: ChunkerOptions, private readonly onSealed: (c: ChunkItem) => void) {}

  /** Fixes held in open chunks. */
  get size(): number {
    return this.fixes;
  }

  /** Copies the fixes in; returns how many were not storable (dropped). */
  add(fixes: readonly StoredFix[], nowMs: number): number {
    let invalid = 0;
    for (const f of fixes) {
      if (!isStorableFix(f) || !isChunkableTs(f.ts)) {
        invalid++;
        continue;
      }
      const slice = sliceOf(f.ts);
      const key = f.driver + '\0' + slice;
      let c = this.open.get(key);
      if (!c) this.open.set(key, (c = { driver: f.driver, slice, openedAt: nowMs, ts: [], vals: [], sorted: true }));
      this.put(c, f.ts, encodeFix(f));
      if (c.ts.length >= this.opts.maxChunkFixes) this.seal(key, c);
    }
    return invalid;
  }

  /** Seals chunks opened at least chunkMs before `nowMs`. */
  sealDue(nowMs: number): void {
    for (const [key, c] of this.open) {
      if (nowMs - c.openedAt < this.opts.chunkMs) break;
      this.seal(key, c);
    }
  }

  sealAll(): void {
    for (const [key, c] of this.open) this.seal(key, c);
  }

  /** Same (driver, ts) twice within a chunk: the later value replaces the earlier (last write wins). */
  private put(c: OpenChunk, ts: number, v: FixValue): void {
    const last = c.ts.length - 1;
    if (last < 0 || c.ts[last]! < ts) {
      c.ts.push(ts);
      c.vals.push(v);
      this.fixes++;
      return;
    }
    const i = c.ts.lastIndexOf(ts); // rare path (out of order or repeated): chunks are small
    if (i >= 0) {
      c.vals[i] = v;
      return;
    }
    c.ts.push(ts);
    c.vals.push(v);
    c.sorted = false;
    this.fixes++;
  }

  private seal(key: string, c: OpenChunk): void {
    this.open.delete(key);
    this.fixes -= c.ts.length;
    let { ts, vals } = c;
    if (!c.sorted) {
      const order = ts.map((_, i) => i).sort((a, b) => ts[a]! - ts[b]!);
      ts = order.map((i) => c.ts[i]!);
      vals = order.map((i) => c.vals[i]!);
    }
    // The timeuuid is taken now: a chunk sealed later sorts later, so its values win on read.
    const id = cassandra.types.TimeUuid.now().toString();
    this.onSealed({ kind: 'chunk', driver: c.driver, day: dayOf(c.slice), slice: c.slice, id, n: ts.length, blob: encodeChunk(c.slice, ts, vals) });
  }
}
