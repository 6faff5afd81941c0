// ChunkGrouper against a brute-force grouping: every storable fix lands once, in its (driver, slice) chunk, in order.
import t from 'tap';
import { ChunkGrouper } from '../src/storage/chunk-grouper.js';
import { SLICE_MS, decodeChunk, sliceOf } from '../src/storage/chunk-codec.js';
import { FixBatch } from '../src/storage/fix-batch.js';
import { mulberry32 } from '../src/util/random.js';

const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);

t.test('random interleaved batches decode to exactly the brute-force groups', async (t) => {
  const rnd = mulberry32(7);
  const g = new ChunkGrouper();
  for (let round = 0; round < 20; round++) {
    const b = new FixBatch(4);
    const n = 1 + Math.floor(rnd() * 3000);
    const want = new Map<string, Array<[number, number, number, number | null]>>();
    for (let i = 0; i < n; i++) {
      const d = 'd' + Math.floor(rnd() * 40);
      const ts = T0 + Math.floor(rnd() * 4 * SLICE_MS);
      const hdg = rnd() < 0.5 ? NaN : Math.floor(rnd() * 360);
      // Keys: none, one per driver, or shared by several drivers (a slot reused within a batch).
      const key = round % 3 === 0 ? -1 : round % 3 === 1 ? Number(d.slice(1)) : Number(d.slice(1)) % 7;
      b.push(d, key, ts, 41 + rnd(), -8 + rnd(), hdg, NaN, rnd() < 0.3 ? 5 : NaN);
      const k = d + '|' + sliceOf(ts);
      if (!want.has(k)) want.set(k, []);
      want.get(k)!.push([ts, b.lat[i]!, b.lng[i]!, Number.isFinite(hdg) ? hdg : null]);
    }
    const got = new Map<string, Array<[number, number, number, number | null]>>();
    let fixes = 0;
    const left = g.encode(b, null, (driver, slice, chunk, count) => {
      const k = driver + '|' + slice;
      t.notOk(got.has(k), 'one chunk per driver and slice');
      const rows: Array<[number, number, number, number | null]> = [];
      decodeChunk(slice, Buffer.from(chunk), (ts, v) => rows.push([ts, v[0], v[1], v[2]]));
      t.equal(rows.length, count);
      fixes += count;
      got.set(k, rows);
    });
    t.equal(left, 0);
    t.equal(fixes, n, `round ${round}: every fix stored once`);
    t.same([...got.keys()].sort(), [...want.keys()].sort());
    for (const [k, rows] of want) if (JSON.stringify(got.get(k)) !== JSON.stringify(rows)) t.fail(`chunk ${k} differs`);
  }
});

t.test('fixes with an unchunkable ts or skipped by the caller are left out and counted', async (t) => {
  const b = FixBatch.of([
    { driver: 'a', ts: T0, lat: 1, lng: 2, hdg: NaN, spd: NaN, acc: NaN },
    { driver: 'a', ts: T0 + 0.5, lat: 1, lng: 2, hdg: NaN, spd: NaN, acc: NaN },
    { driver: 'b', ts: 9e15, lat: 1, lng: 2, hdg: NaN, spd: NaN, acc: NaN },
    { driver: 'c', ts: T0, lat: 1, lng: 2, hdg: 1, spd: 2, acc: 3 },
  ]);
  const seen: string[] = [];
  const left = new ChunkGrouper().encode(b, (i) => i === 3, (d, _s, _c, n) => seen.push(`${d}:${n}`));
  t.equal(left, 3);
  t.same(seen, ['a:1']);
});
