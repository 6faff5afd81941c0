// Off-thread index rebuilds: drivers moved, removed, re-added and new while the worker builds; nearest() stays exact.
import t from 'tap';
import { CityFleet, NearestResult } from '../src/fleet/city-fleet.js';
import { FleetRegistry } from '../src/fleet/fleet-registry.js';
import { IndexBuilder } from '../src/fleet/index-builder.js';
import { mulberry32 } from '../src/util/random.js';
import { bruteForce } from './helpers/nearest-oracle.js';

/** First difference between nearest() and brute force over `queries` random points, or null. */
function check(f: CityFleet, rnd: () => number, queries: number, k: number, maxM: number): string | null {
  const out = new NearestResult(k);
  for (let q = 0; q < queries; q++) {
    const lat = 48.8 + rnd() * 0.2, lng = 2.25 + rnd() * 0.25;
    const n = f.nearest(lat, lng, k, maxM, null, out);
    const want = bruteForce(f, lat, lng, k, maxM);
    if (n !== want.length) return `q${q}: ${n} results, want ${want.length}`;
    for (let i = 0; i < n; i++) {
      const s = out.slots[i]!;
      if (f.alive[s] !== 1) return `q${q}: dead slot`;
      if (Math.abs(out.metres[i]! - want[i]!.metres) > 1e-6) return `q${q} #${i}: ${out.metres[i]} m, want ${want[i]!.metres} m (${want[i]!.id})`;
    }
  }
  return null;
}

t.test('a snapshot built off-thread while the fleet changes is exact once installed', async (t) => {
  const rnd = mulberry32(11);
  const f = new CityFleet({ name: 'paris' });
  const pos = (): [number, number] => [48.8 + rnd() * 0.2, 2.25 + rnd() * 0.25];
  for (let i = 0; i < 20_000; i++) f.upsert('d' + i, ...pos(), 1);
  f.rebuildIndex();
  const builder = new IndexBuilder();
  try {
    for (let round = 0; round < 3; round++) {
      const job = f.beginAsyncRebuild();
      t.ok(f.rebuildPending);
      const built = builder.build(job.input, job.n, job.nodeSize);
      // While the worker sorts: moves (small and large), removals, slot reuse by new drivers, new drivers.
      for (let i = 0; i < 3000; i++) {
        const id = 'd' + Math.floor(rnd() * 20_000);
        if (f.slotOf(id) >= 0) f.upsert(id, ...pos(), 2);
      }
      for (let i = 0; i < 1000; i++) f.remove('d' + Math.floor(rnd() * 20_000));
      for (let i = 0; i < 1500; i++) f.upsert(`n${round}-${i}`, ...pos(), 3);
      t.equal(check(f, rnd, 100, 10, 3000), null, `round ${round}: exact before the swap (old snapshot)`);
      const r = await built;
      t.ok(f.installAsyncRebuild(job.ticket, job.n, r.data, r.pts, r.splits), 'installed');
      t.notOk(f.rebuildPending);
      t.equal(check(f, rnd, 300, 10, 3000), null, `round ${round}: exact after the swap`);
      t.equal(check(f, rnd, 100, 1, Infinity), null, `round ${round}: k=1 unbounded`);
    }
    // A result that lost to a synchronous rebuild is ignored.
    const job = f.beginAsyncRebuild();
    const built = builder.build(job.input, job.n, job.nodeSize);
    f.rebuildIndex();
    const r = await built;
    t.notOk(f.installAsyncRebuild(job.ticket, job.n, r.data, r.pts, r.splits), 'stale ticket refused');
    t.equal(check(f, rnd, 100, 10, 3000), null);
    // An empty fleet.
    const e = new CityFleet({ name: 'empty' });
    const ej = e.beginAsyncRebuild();
    const er = await builder.build(ej.input, ej.n, ej.nodeSize);
    t.ok(e.installAsyncRebuild(ej.ticket, ej.n, er.data, er.pts, er.splits));
    t.equal(e.nearestArray(48.8, 2.3, 5, Infinity).length, 0);
  } finally {
    await builder.close();
  }
});

t.test('FleetRegistry rebuilds large cities on the worker and stays exact', async (t) => {
  const reg = new FleetRegistry({ cities: [{ name: 'world', timezone: 'UTC', boundary: null }], rebuildMs: 20, expireMs: 3_600_000, asyncRebuildMin: 100 });
  reg.start();
  try {
    const rnd = mulberry32(5);
    for (let i = 0; i < 5000; i++) reg.update('d' + i, 48.8 + rnd() * 0.2, 2.25 + rnd() * 0.25, Date.now(), NaN, NaN);
    const f = reg.city('world')!;
    for (let step = 0; step < 20; step++) {
      for (let i = 0; i < 200; i++) reg.update('d' + Math.floor(rnd() * 6000), 48.8 + rnd() * 0.2, 2.25 + rnd() * 0.25, Date.now(), NaN, NaN);
      await new Promise((r) => setTimeout(r, 15));
      const bad = check(f, rnd, 20, 10, 2000);
      if (bad) t.fail(`step ${step}: ${bad}`);
    }
    const deadline = Date.now() + 5000;
    while (f.indexDirty && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    t.notOk(f.indexDirty, 'the worker caught up');
    t.equal(f.indexedCount, f.size, 'every driver in the snapshot');
    t.equal(check(f, rnd, 200, 10, 2000), null);
  } finally {
    reg.stop();
  }
});
