// Cassandra's FixChunker against a brute-force grouping: every storable fix sealed once, in arrival order, by age or size.
import t from 'tap';
import { SLICE_MS, decodeChunk, sliceOf } from '../src/storage/chunk-codec.js';
import { FixBatch } from '../src/storage/fix-batch.js';
import { dayOf } from '../src/storage/cassandra/cassandra-buckets.js';
import { FixChunker } from '../src/storage/cassandra/cassandra-chunker.js';
import type { ChunkItem } from '../src/storage/cassandra/cassandra-items.js';
import { mulberry32 } from '../src/util/random.js';

const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);
type Row = [ts: number, lat: number, hdg: number | null];

t.test('random batches over time: each (driver, slice) reads back exactly its fixes in arrival order', async (t) => {
  const rnd = mulberry32(11);
  const sealed: ChunkItem[] = [];
  const max = 7;
  const chunker = new FixChunker({ chunkMs: 5000, maxChunkFixes: max }, (c) => sealed.push(c));
  const want = new Map<string, Row[]>();
  let now = 0;
  let accepted = 0;
  for (let round = 0; round < 60; round++) {
    const b = new FixBatch(4);
    const n = Math.floor(rnd() * 400);
    for (let i = 0; i < n; i++) {
      const d = 'd' + Math.floor(rnd() * 30);
      // Mostly near "now" (the slice boundary is crossed), sometimes late, sometimes a resent ts.
      const ts = T0 + Math.floor(now * 10 + rnd() * 3 * SLICE_MS);
      const hdg = rnd() < 0.5 ? NaN : Math.floor(rnd() * 360);
      const key = round % 3 === 0 ? -1 : round % 3 === 1 ? Number(d.slice(1)) : Number(d.slice(1)) % 5;
      b.push(d, key, ts, 41 + rnd(), -8, hdg, 3, NaN);
      const k = d + '|' + sliceOf(ts);
      if (!want.has(k)) want.set(k, []);
      want.get(k)!.push([ts, b.lat[i]!, Number.isFinite(hdg) ? hdg : null]);
      accepted++;
    }
    t.equal(chunker.add(b, now), 0);
    b.clear(); // the batch is reused by ingest: the chunker must have copied what it keeps
    now += Math.floor(rnd() * 2000);
    chunker.sealDue(now);
  }
  chunker.sealAll();
  t.equal(chunker.size, 0, 'nothing left open');
  const got = new Map<string, Row[]>();
  let fixes = 0;
  const ids = new Set<string>();
  for (const c of sealed) {
    t.ok(c.n >= 1 && c.n <= max, 'a chunk holds 1..maxChunkFixes fixes');
    t.equal(c.day, dayOf(c.slice));
    ids.add(c.id);
    const k = c.driver + '|' + c.slice;
    if (!got.has(k)) got.set(k, []);
    let count = 0;
    decodeChunk(c.slice, c.blob, (ts, v) => {
      got.get(k)!.push([ts, v[0], v[2]]);
      count++;
    });
    t.equal(count, c.n);
    fixes += c.n;
  }
  t.equal(ids.size, sealed.length, 'one timeuuid per chunk');
  t.equal(fixes, accepted, 'every fix sealed once');
  t.same([...got.keys()].sort(), [...want.keys()].sort());
  for (const [k, rows] of want) if (JSON.stringify(got.get(k)) !== JSON.stringify(rows)) t.fail(`chunk ${k} differs`);
});

t.test('sealed by age (chunkMs after the first fix) or at once by size', async (t) => {
  const sealed: ChunkItem[] = [];
  const chunker = new FixChunker({ chunkMs: 1000, maxChunkFixes: 3 }, (c) => sealed.push(c));
  const fix = (d: string, ts: number): FixBatch => FixBatch.of([{ driver: d, ts, lat: 1, lng: 2, hdg: NaN, spd: NaN, acc: NaN }]);
  chunker.add(fix('a', T0), 100);
  chunker.add(fix('b', T0), 600);
  chunker.add(fix('a', T0 + SLICE_MS), 700); // a second open chunk of driver a (next slice)
  t.equal(chunker.size, 3);
  chunker.sealDue(1099);
  t.equal(sealed.length, 0, 'not before chunkMs');
  chunker.sealDue(1100);
  t.same(sealed.map((c) => [c.driver, c.slice - T0, c.n]), [['a', 0, 1]], 'the oldest chunk only');
  chunker.add(fix('a', T0 + 1), 1200); // a new chunk for a's first slice; a's second slice stays open
  chunker.add(fix('a', T0 + SLICE_MS + 1), 1200);
  chunker.add(fix('a', T0 + SLICE_MS + 2), 1200);
  t.same(sealed.map((c) => [c.driver, c.slice - T0, c.n]).slice(1), [['a', SLICE_MS, 3]], 'sealed at maxChunkFixes at once');
  chunker.sealDue(1600);
  t.same(sealed.map((c) => [c.driver, c.n]).slice(2), [['b', 1]]);
  chunker.sealAll();
  t.same(sealed.map((c) => [c.driver, c.slice - T0, c.n]).slice(3), [['a', 0, 1]]);
  t.equal(chunker.size, 0);
  t.not(sealed[0]!.id, sealed[3]!.id, 'a chunk of the same slice sealed later has its own timeuuid');
});

t.test('unstorable fixes are counted, never chunked', async (t) => {
  const sealed: ChunkItem[] = [];
  const chunker = new FixChunker({ chunkMs: 1000, maxChunkFixes: 100 }, (c) => sealed.push(c));
  const b = FixBatch.of([
    { driver: '', ts: T0, lat: 1, lng: 2, hdg: NaN, spd: NaN, acc: NaN },
    { driver: 'a', ts: NaN, lat: 1, lng: 2, hdg: NaN, spd: NaN, acc: NaN },
    { driver: 'a', ts: T0 + 0.5, lat: 1, lng: 2, hdg: NaN, spd: NaN, acc: NaN },
    { driver: 'a', ts: T0, lat: NaN, lng: 2, hdg: NaN, spd: NaN, acc: NaN },
    { driver: 'a', ts: 9e15, lat: 1, lng: 2, hdg: NaN, spd: NaN, acc: NaN },
    { driver: 'a', ts: T0 + 1, lat: 1, lng: 2, hdg: 4, spd: 5, acc: 6 },
  ]);
  t.equal(chunker.add(b, 0), 5);
  chunker.sealAll();
  t.equal(sealed.length, 1);
  const rows: unknown[] = [];
  decodeChunk(sealed[0]!.slice, sealed[0]!.blob, (ts, v) => rows.push([ts - T0, ...v]));
  t.same(rows, [[1, 1, 2, 4, 5, 6]]);
});
