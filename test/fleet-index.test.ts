// Cross-checks CityFleet.nearest against a brute-force scan on seeded random fleets, including stale snapshots.
import t from 'tap';
import { CityFleet, DriverStatus, NearestResult } from '../src/fleet/city-fleet.js';
import type { DriverStatusCode } from '../src/fleet/city-fleet.js';
import { METRES_PER_DEGREE } from '../src/fleet/geo.js';
import { mulberry32 } from '../src/util/random.js';
import { compareNearest as compare } from './helpers/nearest-oracle.js';


/** Move (lat, lng) degrees by north/east metres, reflecting over the poles and wrapping longitude. */
function offset(lat: number, lng: number, northM: number, eastM: number): [number, number] {
  let la = lat + northM / METRES_PER_DEGREE;
  let ln = lng + eastM / (METRES_PER_DEGREE * Math.max(1e-6, Math.cos((lat * Math.PI) / 180)));
  if (la > 90) { la = 180 - la; ln += 180; }
  if (la < -90) { la = -180 - la; ln += 180; }
  ln = ((((ln + 180) % 360) + 360) % 360) - 180;
  return [la, ln];
}

/** Uniform random point within `maxM` metres (flat approximation, fine for generating data). */
function scatter(rnd: () => number, lat: number, lng: number, maxM: number): [number, number] {
  const r = maxM * Math.sqrt(rnd());
  const a = rnd() * 2 * Math.PI;
  return offset(lat, lng, r * Math.cos(a), r * Math.sin(a));
}

interface Scenario { name: string; lat: number; lng: number; seed: number }

const scenarios: Scenario[] = [
  { name: 'mid-latitude city', lat: 40.7128, lng: -74.006, seed: 1 },
  { name: 'antimeridian', lat: -16.5, lng: 179.99, seed: 2 },
  { name: 'near lat 89', lat: 89, lng: 10, seed: 3 },
  { name: 'circles containing the pole', lat: 89.95, lng: -120, seed: 4 },
];

const SPREAD_M = 30_000;

for (const sc of scenarios) {
  t.test(sc.name, async (t) => {
    const rnd = mulberry32(sc.seed);
    // Small initial capacity so the run also exercises growth.
    const f = new CityFleet({ name: sc.name, initialCapacity: 64 });
    const statuses: DriverStatusCode[] = [DriverStatus.offline, DriverStatus.available, DriverStatus.busy];
    const pick = (): DriverStatusCode => statuses[Math.floor(rnd() * 3)]!;
    const ids: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const [la, ln] = scatter(rnd, sc.lat, sc.lng, SPREAD_M);
      const id = `d${i}`;
      f.upsert(id, la, ln, 1000, NaN, NaN, pick());
      ids.push(id);
    }
    t.equal(f.size, 20_000);
    f.rebuildIndex();
    t.equal(f.indexedCount, 20_000);
    t.equal(f.indexDirty, false);
    t.equal(f.maxDriftDeg, 0);

    const out = new NearestResult(20);
    const available = (s: number): boolean => f.status[s] === DriverStatus.available;

    // Stale snapshot: removals first so the additions reuse slots that are still in the kdbush index.
    const removed: string[] = [];
    let removeOk = 0;
    for (let i = 0; i < 300; i++) {
      const j = Math.floor(rnd() * ids.length);
      const id = ids[j]!;
      ids[j] = ids[ids.length - 1]!;
      ids.pop();
      if (f.remove(id)) removeOk++;
      removed.push(id);
    }
    t.equal(removeOk, 300);
    for (let i = 0; i < 500; i++) {
      // A few removed ids come back, the rest are new.
      const id = i < 100 ? removed[i]! : `n${i}`;
      const [la, ln] = scatter(rnd, sc.lat, sc.lng, SPREAD_M);
      f.upsert(id, la, ln, 2000, 90, 5, pick());
      ids.push(id);
    }
    const moves = Math.floor(ids.length * 0.3);
    for (let i = 0; i < moves; i++) {
      const id = ids[Math.floor(rnd() * ids.length)]!;
      const s = f.slotOf(id);
      const [la, ln] = scatter(rnd, f.lat[s]!, f.lng[s]!, 2000);
      // Some moves also change status through upsert; most keep it.
      f.upsert(id, la, ln, 3000, 0, 10, rnd() < 0.2 ? pick() : undefined);
    }
    t.equal(f.size, 20_200);
    t.ok(f.indexDirty);
    t.ok(f.maxDriftDeg > 0);
    t.equal(f.addedSinceIndex, 500);

    const failures: string[] = [];
    const queries = (count: number): void => {
      for (let q = 0; q < count; q++) {
        const [la, ln] = scatter(rnd, sc.lat, sc.lng, 25_000);
        const k = 1 + Math.floor(rnd() * 20);
        const r = 100 * Math.pow(200, rnd()); // log-uniform 100 m .. 20 km
        const msg = compare(f, la, ln, k, r, available, out);
        if (msg) failures.push(msg);
      }
    };
    queries(300);
    // Unbounded and unfiltered queries take the whole-world path.
    for (let q = 0; q < 10; q++) {
      const [la, ln] = scatter(rnd, sc.lat, sc.lng, 25_000);
      const msg = compare(f, la, ln, 20, Infinity, null, out);
      if (msg) failures.push(msg);
    }
    t.same(failures.slice(0, 5), [], 'stale snapshot: nearest matches brute force');

    f.rebuildIndex();
    t.equal(f.maxDriftDeg, 0);
    t.equal(f.addedSinceIndex, 0);
    t.equal(f.indexedCount, 20_200);
    failures.length = 0;
    queries(50);
    t.same(failures.slice(0, 5), [], 'fresh snapshot: nearest matches brute force');
  });
}

t.test('never-indexed fleet is scanned linearly and still exact', async (t) => {
  const rnd = mulberry32(9);
  const f = new CityFleet({ name: 'x', initialCapacity: 8 });
  for (let i = 0; i < 2000; i++) {
    const [la, ln] = scatter(rnd, 0, 0, 10_000);
    f.upsert(`d${i}`, la, ln, 0, NaN, NaN, DriverStatus.available);
  }
  const out = new NearestResult(10);
  const failures: string[] = [];
  for (let q = 0; q < 50; q++) {
    const [la, ln] = scatter(rnd, 0, 0, 10_000);
    const msg = compare(f, la, ln, 10, 3000, null, out);
    if (msg) failures.push(msg);
  }
  t.same(failures, []);
});
