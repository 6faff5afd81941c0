// Edge cases of CityFleet.nearest against brute force: whole-globe fleets, the antimeridian, ties, the radius edge, tiny fleets.
import t from 'tap';
import { CityFleet, DriverStatus, NearestResult } from '../src/fleet/city-fleet.js';
import { haversineMetres } from '../src/fleet/geo.js';
import { mulberry32 } from '../src/util/random.js';
import { compareNearest as compare } from './helpers/nearest-oracle.js';

/** Uniform point on the sphere, degrees. */
function onSphere(rnd: () => number): [number, number] {
  return [(Math.asin(2 * rnd() - 1) * 180) / Math.PI, rnd() * 360 - 180];
}

t.test('whole-globe fleet: any radius, any place, stale snapshot', async (t) => {
  const rnd = mulberry32(21);
  const f = new CityFleet({ name: 'globe', initialCapacity: 16 });
  for (let i = 0; i < 5000; i++) {
    const [la, ln] = onSphere(rnd);
    f.upsert(`d${i}`, la, ln, 0, NaN, NaN, rnd() < 0.5 ? DriverStatus.available : DriverStatus.busy);
  }
  f.rebuildIndex();
  // Large moves (some across ±180 and over the poles' neighbourhood), removals and additions.
  for (let i = 0; i < 300; i++) {
    const id = `d${Math.floor(rnd() * 5000)}`;
    const s = f.slotOf(id);
    if (s < 0) continue;
    const la = Math.max(-90, Math.min(90, f.lat[s]! + (rnd() - 0.5) * 4));
    let ln = f.lng[s]! + (rnd() - 0.5) * 4;
    if (ln > 180) ln -= 360;
    if (ln < -180) ln += 360;
    f.upsert(id, la, ln, 1);
  }
  for (let i = 0; i < 100; i++) f.remove(`d${Math.floor(rnd() * 5000)}`);
  for (let i = 0; i < 100; i++) {
    const [la, ln] = onSphere(rnd);
    f.upsert(`n${i}`, la, ln, 1, NaN, NaN, DriverStatus.available);
  }
  const out = new NearestResult(25);
  const available = (s: number): boolean => f.status[s] === DriverStatus.available;
  const failures: string[] = [];
  for (let q = 0; q < 400; q++) {
    let [la, ln] = onSphere(rnd);
    if (q % 8 === 0) ln = rnd() < 0.5 ? 180 : -180;
    if (q % 8 === 1) la = rnd() < 0.5 ? 90 : -90;
    if (q % 8 === 2) ln = 179.5 + rnd();
    const k = 1 + Math.floor(rnd() * 25);
    const r = q % 10 === 9 ? Infinity : 1000 * Math.pow(20_000, rnd()); // 1 km .. 20,000 km
    const msg = compare(f, la, ln > 180 ? ln - 360 : ln, k, r, q % 2 === 0 ? available : null, out);
    if (msg) failures.push(msg);
  }
  t.same(failures.slice(0, 5), []);
  f.rebuildIndex();
  failures.length = 0;
  for (let q = 0; q < 200; q++) {
    const [la, ln] = onSphere(rnd);
    const msg = compare(f, la, ln, 10, 1000 * Math.pow(20_000, rnd()), null, out);
    if (msg) failures.push(msg);
  }
  t.same(failures.slice(0, 5), [], 'fresh snapshot');
});

t.test('a city straddling the antimeridian, queried on both sides and exactly at ±180', async (t) => {
  const rnd = mulberry32(22);
  const f = new CityFleet({ name: 'fiji' });
  for (let i = 0; i < 10_000; i++) {
    let ln = 180 + (rnd() - 0.5) * 0.4;
    if (ln > 180) ln -= 360;
    f.upsert(`d${i}`, -17 + (rnd() - 0.5) * 0.4, ln, 0);
  }
  f.rebuildIndex();
  // A few drivers cross the antimeridian after the snapshot.
  for (let i = 0; i < 50; i++) {
    const s = f.slotOf(`d${i}`);
    const ln = f.lng[s]!;
    f.upsert(`d${i}`, f.lat[s]!, -ln, 1); // the mirror image across ±180
  }
  const out = new NearestResult(20);
  const failures: string[] = [];
  for (let q = 0; q < 300; q++) {
    const la = -17 + (rnd() - 0.5) * 0.4;
    const ln = q % 3 === 0 ? 180 : q % 3 === 1 ? -180 : (rnd() < 0.5 ? 179.9 : -179.9) + (rnd() - 0.5) * 0.2;
    const msg = compare(f, la, ln, 1 + Math.floor(rnd() * 20), 100 * Math.pow(300, rnd()), null, out);
    if (msg) failures.push(msg);
  }
  t.same(failures.slice(0, 5), []);
});

t.test('ties: many drivers at the same spot', async (t) => {
  const f = new CityFleet({ name: 'rank' });
  for (let i = 0; i < 200; i++) f.upsert(`a${i}`, 51.5, -0.1, 0);
  for (let i = 0; i < 200; i++) f.upsert(`b${i}`, 51.5001, -0.1, 0);
  f.rebuildIndex();
  const out = new NearestResult(30);
  t.equal(f.nearest(51.5, -0.1, 30, 1000, null, out), 30);
  for (let i = 0; i < 30; i++) {
    t.equal(out.metres[i], 0);
    t.ok(f.idAt(out.slots[i]!).startsWith('a'));
  }
  t.equal(new Set(out.slots).size, 30, 'no duplicates');
  t.equal(compare(f, 51.50005, -0.1, 30, 1000, null, out), null);
});

t.test('a driver exactly at maxMetres is included, one a hair beyond is not', async (t) => {
  const rnd = mulberry32(23);
  const failures: string[] = [];
  const clampLng = (x: number): number => (x > 180 ? 180 : x < -180 ? -180 : x);
  for (let trial = 0; trial < 300; trial++) {
    // Spreads of ~10 km, ~10 m and ~10 cm: short chords are where unit-vector rounding matters most.
    const spread = [0.2, 2e-4, 2e-6][trial % 3]!;
    const f = new CityFleet({ name: 'edge' });
    const qLat = (rnd() - 0.5) * 170;
    const qLng = (rnd() - 0.5) * 360;
    for (let i = 0; i < 50; i++) f.upsert(`d${i}`, qLat + (rnd() - 0.5) * spread, clampLng(qLng + (rnd() - 0.5) * spread), 0);
    f.rebuildIndex();
    const s = f.slotOf(`d${Math.floor(rnd() * 50)}`);
    const d = haversineMetres(qLat, qLng, f.lat[s]!, f.lng[s]!);
    const out = new NearestResult(50);
    for (const r of [d, d * (1 - 1e-15), d * (1 + 1e-15)]) {
      const msg = compare(f, qLat, qLng, 50, r, null, out);
      if (msg) failures.push(msg);
    }
    const n = f.nearest(qLat, qLng, 50, d, null, out);
    if (!Array.from(out.slots.subarray(0, n)).includes(s)) failures.push(`trial ${trial}: driver at exactly ${d} m missing`);
  }
  t.same(failures.slice(0, 5), []);
});

t.test('tiny fleets around the leaf size, and k beyond the fleet', async (t) => {
  const rnd = mulberry32(24);
  const failures: string[] = [];
  for (let n = 0; n <= 140; n++) {
    const f = new CityFleet({ name: 'tiny', initialCapacity: 4 });
    for (let i = 0; i < n; i++) f.upsert(`d${i}`, 10 + rnd() * 0.05, 20 + rnd() * 0.05, 0);
    f.rebuildIndex();
    if (n > 3) f.upsert('d0', 10.06, 20.06, 1);
    const out = new NearestResult(200);
    for (let q = 0; q < 5; q++) {
      const k = 1 + Math.floor(rnd() * 200);
      const msg = compare(f, 10 + rnd() * 0.06, 20 + rnd() * 0.06, k, q === 0 ? Infinity : 500 + rnd() * 5000, null, out);
      if (msg) failures.push(`n=${n}: ${msg}`);
    }
  }
  t.same(failures.slice(0, 5), []);
});

t.test('many small-k queries: the nearest often lies just across a split line', async (t) => {
  // k = 1 makes the search prune right at the gaps between cells, so a bound that is too tight shows up
  // here (a bound 10% too high fails this test; the random-city tests above miss it).
  const rnd = mulberry32(25);
  const f = new CityFleet({ name: 'splits' });
  for (let i = 0; i < 10_000; i++) f.upsert(`d${i}`, 45 + rnd() * 0.2, 7 + rnd() * 0.3, 0);
  f.rebuildIndex();
  const out = new NearestResult(3);
  const failures: string[] = [];
  for (let q = 0; q < 6000; q++) {
    const msg = compare(f, 45 + rnd() * 0.2, 7 + rnd() * 0.3, 1, 5000, null, out);
    if (msg) failures.push(msg);
  }
  t.same(failures.slice(0, 5), [], 'fresh snapshot');
  for (let i = 0; i < 100; i++) {
    const s = f.slotOf(`d${i}`);
    f.upsert(`d${i}`, f.lat[s]! + (rnd() - 0.5) * 0.002, f.lng[s]! + (rnd() - 0.5) * 0.002, 1);
  }
  failures.length = 0;
  for (let q = 0; q < 2000; q++) {
    const msg = compare(f, 45 + rnd() * 0.2, 7 + rnd() * 0.3, 1 + (q % 3), 5000, null, out);
    if (msg) failures.push(msg);
  }
  t.same(failures.slice(0, 5), [], 'stale snapshot');
});
