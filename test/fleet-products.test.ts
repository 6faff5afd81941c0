// Products in the fleet: the per-city registry of bits, the product column, nearest() filtered by product masks (against brute force), and the registry's routing of a driver's products.
import t from 'tap';
import { ANY_PRODUCT, CityFleet, CityProducts, DriverStatus, NearestResult } from '../src/fleet/city-fleet.js';
import { FleetRegistry } from '../src/fleet/fleet-registry.js';
import { mulberry32 } from '../src/util/random.js';
import type { CityDef } from '../src/config/cities.js';
import { compareNearest } from './helpers/nearest-oracle.js';

const NAMES = Array.from({ length: 32 }, (_, i) => (i === 0 ? 'taxi' : `p${i}`));

t.test('CityProducts maps names to bits; unknown products are 0 and ignored in a driver list', async (t) => {
  const p = new CityProducts(['taxi', 'xl', 'tow']);
  t.equal(p.maskOf('taxi'), 1);
  t.equal(p.maskOf('xl'), 2);
  t.equal(p.maskOf('tow'), 4);
  t.equal(p.maskOf('limo'), 0, 'not offered');
  t.equal(p.defaultBits, 1);
  t.equal(p.bitsOf(undefined), 1, 'no claim: the default product');
  t.equal(p.bitsOf(['xl', 'limo']), 2, 'products the city does not offer are ignored');
  t.equal(p.bitsOf(['limo']), 0, 'serves nothing here');
  t.same(p.namesOf(5), ['taxi', 'tow']);
  const only = new CityProducts(undefined);
  t.same(only.names, ['taxi'], 'no list: the default product only');
  const big = new CityProducts(NAMES, 'p31');
  t.equal(big.maskOf('p31'), 0x80000000, 'bit 31 as an unsigned mask');
  t.equal(big.defaultBits, 0x80000000);
  t.throws(() => new CityProducts([...NAMES, 'x']), RangeError, 'more than 32');
  t.throws(() => new CityProducts(['xl']), RangeError, 'default not offered');
});

t.test('nearest() with random product masks agrees with brute force (snapshot, moved, added, removed, bit 31)', async (t) => {
  const rnd = mulberry32(1313);
  const f = new CityFleet({ name: 'paris', initialCapacity: 64, products: new CityProducts(NAMES) });
  const pos = (): [number, number] => [48.8 + rnd() * 0.2, 2.25 + rnd() * 0.25];
  // Each driver serves 0-3 random products (0: none offered here).
  const randomBits = (): number => {
    let b = 0;
    const n = Math.floor(rnd() * 4);
    for (let i = 0; i < n; i++) b |= 1 << Math.floor(rnd() * 32);
    return b >>> 0;
  };
  for (let i = 0; i < 5000; i++) f.upsert('d' + i, ...pos(), 1, NaN, NaN, DriverStatus.available, randomBits());
  f.rebuildIndex();
  // After the rebuild: moves, removals, new drivers (scanned linearly) and product changes.
  for (let i = 0; i < 500; i++) f.upsert('d' + Math.floor(rnd() * 5000), ...pos(), 2);
  for (let i = 0; i < 300; i++) f.remove('d' + Math.floor(rnd() * 5000));
  for (let i = 0; i < 400; i++) f.upsert('n' + i, ...pos(), 3, NaN, NaN, DriverStatus.available, randomBits());
  for (let i = 0; i < 300; i++) f.setProducts('d' + Math.floor(rnd() * 5000), randomBits());
  const out = new NearestResult(20);
  const oddSlots = (s: number): boolean => s % 2 === 1;
  let failures = 0;
  for (let q = 0; q < 600; q++) {
    // Masks of one product, several, bit 31 alone, and ANY_PRODUCT.
    const kind = q % 4;
    const mask = kind === 0 ? ANY_PRODUCT : kind === 1 ? (1 << Math.floor(rnd() * 32)) >>> 0 : kind === 2 ? (rnd() * 0xffffffff) >>> 0 : 0x80000000;
    const k = 1 + Math.floor(rnd() * 20);
    const r = rnd() < 0.2 ? Infinity : 200 + rnd() * 5000;
    const diff = compareNearest(f, ...pos(), k, r, q % 3 === 0 ? oddSlots : null, out, mask);
    if (diff !== null && failures++ < 5) t.fail(diff);
  }
  t.equal(failures, 0, '600 random queries exact');
});

t.test('a product nobody serves finds nobody; ANY_PRODUCT finds drivers with no product here', async (t) => {
  const f = new CityFleet({ name: 'c', products: new CityProducts(['taxi', 'xl']) });
  f.upsert('a', 45, 7, 1, NaN, NaN, DriverStatus.available); // default: taxi
  f.upsert('b', 45.001, 7, 1, NaN, NaN, DriverStatus.available, 0);
  f.rebuildIndex();
  t.same(f.nearestArray(45, 7, 5, 1000, null, 2).map((d) => d.id), [], 'no xl driver');
  t.same(f.nearestArray(45, 7, 5, 1000, null, 1).map((d) => d.id), ['a']);
  t.same(f.nearestArray(45, 7, 5, 1000).map((d) => d.id), ['a', 'b'], 'unfiltered');
  t.ok(f.setProducts('a', 3));
  t.same(f.nearestArray(45, 7, 5, 1000, null, 2).map((d) => d.id), ['a'], 'setProducts takes effect without a rebuild');
  t.notOk(f.setProducts('nobody', 1));
  f.remove('a');
  f.upsert('c', 45.002, 7, 1, NaN, NaN, DriverStatus.available);
  t.equal(f.products[f.slotOf('c')], 1, 'a reused slot starts with the default product, not the previous driver\'s');
});

t.test('the registry gives a driver its products when a fix places it in a city, per city', async (t) => {
  const square = (lat: number, lng: number): CityDef['boundary'] => ({ type: 'Polygon', coordinates: [[[lng, lat], [lng + 1, lat], [lng + 1, lat + 1], [lng, lat + 1], [lng, lat]]] });
  const cities: CityDef[] = [
    { name: 'a', timezone: 'UTC', boundary: square(10, 10), products: ['taxi', 'xl'] },
    { name: 'b', timezone: 'UTC', boundary: square(20, 20), products: ['xl', 'tow'], defaultProduct: 'tow' },
  ];
  const reg = new FleetRegistry({ cities, rebuildMs: 1000, expireMs: 60_000 });
  const changed: string[] = [];
  reg.addLocalChangeListener((id) => changed.push(id));
  reg.setDriverProducts('d1', ['xl', 'tow']); // before its first fix
  reg.update('d1', 10.5, 10.5, 1, NaN, NaN);
  const a = reg.city('a')!;
  t.same(a.offered.namesOf(a.products[a.slotOf('d1')]!), ['xl'], 'in a: only xl (tow is not offered there)');
  reg.update('d1', 20.5, 20.5, 2, NaN, NaN);
  const b = reg.city('b')!;
  t.same(b.offered.namesOf(b.products[b.slotOf('d1')]!), ['xl', 'tow'], 'in b: both');
  reg.update('d2', 20.5, 20.6, 1, NaN, NaN);
  t.same(b.offered.namesOf(b.products[b.slotOf('d2')]!), ['tow'], 'no claim: the city default');
  changed.length = 0;
  reg.setDriverProducts('d2', ['xl']);
  t.same(b.offered.namesOf(b.products[b.slotOf('d2')]!), ['xl'], 'a new token applies at once');
  t.same(changed, ['d2'], 'and is mirrored (local change)');
  reg.applyRemote('r1', 'b', 20.4, 20.4, 1, NaN, NaN, DriverStatus.available);
  t.equal(b.products[b.slotOf('r1')], b.offered.defaultBits, 'a mirrored driver without products: the default');
  reg.applyRemote('r2', 'b', 20.4, 20.4, 1, NaN, NaN, DriverStatus.available, 1);
  t.same(b.offered.namesOf(b.products[b.slotOf('r2')]!), ['xl']);
  reg.forgetDriverProducts('d1');
  reg.update('d1', 10.5, 10.5, 3, NaN, NaN);
  t.same(a.offered.namesOf(a.products[a.slotOf('d1')]!), ['taxi'], 'forgotten: the default again');
  reg.stop();
});
