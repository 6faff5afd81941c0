// CityFleet bookkeeping: upsert/remove, slot reuse, growth, expiry, status, snapshot flags and the exactness edge cases.
import t from 'tap';
import { CityFleet, DriverStatus, NearestResult, statusName } from '../src/fleet/city-fleet.js';

t.test('upsert creates, then updates in place', async (t) => {
  const f = new CityFleet({ name: 'c' });
  const s = f.upsert('a', 1, 2, 100, 45, 3);
  t.equal(f.slotOf('a'), s);
  t.equal(f.idAt(s), 'a');
  t.equal(f.size, 1);
  t.equal(f.status[s], DriverStatus.offline, 'new drivers start offline');
  t.equal(f.hdg[s], 45);
  t.equal(f.spd[s], 3);
  t.equal(f.upsert('a', 1.5, 2.5, 200, NaN, NaN, DriverStatus.busy), s);
  t.equal(f.size, 1);
  t.equal(f.lat[s], 1.5);
  t.equal(f.lng[s], 2.5);
  t.equal(f.ts[s], 200);
  t.ok(Number.isNaN(f.hdg[s]!));
  t.ok(Number.isNaN(f.spd[s]!));
  t.equal(f.status[s], DriverStatus.busy);
  f.upsert('a', 1.6, 2.6, 300);
  t.equal(f.status[s], DriverStatus.busy, 'status kept when omitted');
  t.equal(f.slotOf('nobody'), -1);
});

t.test('invalid input is rejected', async (t) => {
  const f = new CityFleet({ name: 'c' });
  t.throws(() => f.upsert('a', 91, 0, 0));
  t.throws(() => f.upsert('a', 0, 180.5, 0));
  t.throws(() => f.upsert('a', NaN, 0, 0));
  t.throws(() => new CityFleet({ name: 'c', initialCapacity: 0 }));
  t.equal(f.size, 0);
  const out = new NearestResult(2);
  t.throws(() => f.nearest(0, 0, 3, 100, null, out), 'k above capacity');
  t.equal(f.nearest(NaN, 0, 1, 100, null, out), 0);
  t.equal(f.nearest(0, 0, 1, -1, null, out), 0);
});

t.test('setStatus and statusName', async (t) => {
  const f = new CityFleet({ name: 'c' });
  const s = f.upsert('a', 0, 0, 0);
  t.equal(f.setStatus('a', DriverStatus.available), true);
  t.equal(f.status[s], DriverStatus.available);
  t.equal(f.setStatus('zzz', DriverStatus.busy), false);
  t.equal(statusName(0), 'offline');
  t.equal(statusName(1), 'available');
  t.equal(statusName(2), 'busy');
});

t.test('remove frees the slot for reuse', async (t) => {
  const f = new CityFleet({ name: 'c' });
  const a = f.upsert('a', 0, 0, 0);
  f.upsert('b', 0, 0, 0);
  t.equal(f.remove('a'), true);
  t.equal(f.remove('a'), false);
  t.equal(f.slotOf('a'), -1);
  t.equal(f.alive[a], 0);
  t.equal(f.idAt(a), '');
  t.equal(f.size, 1);
  t.equal(f.upsert('c', 0, 0, 0), a, 'freed slot reused');
  t.equal(f.idAt(a), 'c');
  const seen: number[] = [];
  f.forEachAlive((s) => seen.push(s));
  t.same(seen.sort(), [0, 1]);
});

t.test('growth beyond initialCapacity keeps data and refreshes getters', async (t) => {
  const f = new CityFleet({ name: 'c', initialCapacity: 2 });
  const before = f.lat;
  for (let i = 0; i < 100; i++) f.upsert(`d${i}`, i * 0.1, -i * 0.1, i, i, i, DriverStatus.available);
  t.equal(f.size, 100);
  t.ok(f.capacity >= 100);
  t.not(f.lat, before, 'lat getter returns the grown array');
  for (let i = 0; i < 100; i++) {
    const s = f.slotOf(`d${i}`);
    t.equal(f.lat[s], i * 0.1);
    t.equal(f.lng[s], -i * 0.1);
    t.equal(f.ts[s], i);
    t.equal(f.status[s], DriverStatus.available);
  }
  f.rebuildIndex();
  t.same(f.nearestArray(0, 0, 1, 1).map((d) => d.id), ['d0']);
});

t.test('expire removes silent drivers and returns their ids', async (t) => {
  const f = new CityFleet({ name: 'c' });
  f.upsert('old', 0, 0, 1000);
  f.upsert('edge', 0, 0, 5000);
  f.upsert('new', 0, 0, 9000);
  f.rebuildIndex();
  t.same(f.expire(10_000, 5000).sort(), ['old']);
  t.equal(f.size, 2);
  t.equal(f.slotOf('old'), -1);
  t.same(f.expire(10_000, 5000), [], 'a fix exactly at the cutoff is kept');
  t.same(f.nearestArray(0, 0, 5, 10).map((d) => d.id).sort(), ['edge', 'new'], 'expired drivers are not found');
});

t.test('snapshot flags', async (t) => {
  const f = new CityFleet({ name: 'c' });
  t.equal(f.indexDirty, false);
  f.upsert('a', 10, 10, 0);
  t.equal(f.indexDirty, true);
  t.equal(f.changesSinceIndex, 1);
  f.rebuildIndex();
  t.equal(f.indexDirty, false);
  f.setStatus('a', DriverStatus.available);
  t.equal(f.indexDirty, false, 'status changes do not need a rebuild');
  f.upsert('a', 10.5, 9.8, 1);
  t.ok(Math.abs(f.maxDriftDeg - 0.5) < 1e-12, 'drift is the larger of the lat and lng moves');
  f.upsert('a', 10, 10, 2);
  t.ok(Math.abs(f.maxDriftDeg - 0.5) < 1e-12, 'drift never shrinks before a rebuild');
  f.remove('a');
  f.rebuildIndex();
  t.equal(f.indexedCount, 0);
  t.same(f.nearestArray(10, 10, 1, Infinity), []);
});

t.test('a slot removed and reused before a rebuild is returned once, at its new position', async (t) => {
  const f = new CityFleet({ name: 'c' });
  const s = f.upsert('a', 0, 0, 0);
  f.rebuildIndex();
  f.remove('a');
  t.equal(f.upsert('b', 0, 0.001, 0), s);
  f.remove('b');
  t.equal(f.upsert('b', 0, 0.002, 0), s, 'removed and re-added again');
  t.equal(f.addedSinceIndex, 1, 'added list holds each slot once');
  const hits = f.nearestArray(0, 0, 5, 1000);
  t.equal(hits.length, 1);
  t.equal(hits[0]!.id, 'b');
  t.ok(Math.abs(hits[0]!.metres - 222.39) < 0.1);
});

t.test('a driver that crosses the antimeridian after the snapshot is still found', async (t) => {
  const f = new CityFleet({ name: 'c' });
  f.upsert('a', 0, 179.999, 0);
  f.rebuildIndex();
  f.upsert('a', 0, -179.999, 1);
  t.ok(f.maxDriftDeg < 0.01, 'longitude drift is measured the short way round');
  t.same(f.nearestArray(0, -179.998, 1, 500).map((d) => d.id), ['a']);
  t.same(f.nearestArray(0, 179.9995, 1, 500).map((d) => d.id), ['a']);
  t.same(f.nearestArray(0, 179.99, 1, 500), []);
});

t.test('nearest honours k, radius, filter and order; reuses the result buffer', async (t) => {
  const f = new CityFleet({ name: 'c' });
  for (let i = 1; i <= 10; i++) f.upsert(`d${i}`, 0, i * 0.001, 0, NaN, NaN, i % 2 === 0 ? DriverStatus.available : DriverStatus.busy);
  f.rebuildIndex();
  const out = new NearestResult(4);
  const n = f.nearest(0, 0, 4, 700, (s) => f.status[s] === DriverStatus.available, out);
  t.equal(n, 3, 'd2, d4, d6 are within 700 m and available');
  t.same(Array.from(out.slots.subarray(0, n), (s) => f.idAt(s)), ['d2', 'd4', 'd6']);
  t.ok(out.metres[0]! < out.metres[1]! && out.metres[1]! < out.metres[2]!);
  t.equal(f.nearest(0, 0, 2, Infinity, null, out), 2);
  t.same([f.idAt(out.slots[0]!), f.idAt(out.slots[1]!)], ['d1', 'd2']);
  t.equal(f.nearest(0, 0, 4, 50, null, out), 0);
  t.equal(out.count, 0);
});
