// FleetRegistry.applyCities: cities added, changed and removed at run time (the live catalog), with the drivers' city-change listener.
import t from 'tap';
import { FleetRegistry } from '../src/fleet/fleet-registry.js';
import type { CityDef } from '../src/config/cities.js';

const sq = (a: number, b: number, c: number, d: number) => ({ type: 'Polygon' as const, coordinates: [[[a, b], [c, b], [c, d], [a, d], [a, b]]] });
const monaco: CityDef = { name: 'monaco', timezone: 'Europe/Monaco', boundary: sq(7.40, 43.72, 7.44, 43.76), products: ['taxi', 'xl'] };
const nice: CityDef = { name: 'nice', timezone: 'Europe/Paris', boundary: sq(7.20, 43.66, 7.30, 43.74) };

t.test('a city added later takes the drivers whose next fix lies in it; the listener hears each city change', async (t) => {
  const reg = new FleetRegistry({ cities: [monaco], rebuildMs: 1000, expireMs: 60_000 });
  const heard: Array<[string, string | null]> = [];
  reg.addCityChangeListener((id, city) => heard.push([id, city]));
  reg.update('d1', 43.70, 7.25, 1000, NaN, NaN);
  t.equal(reg.cityNameOf('d1'), null, 'nowhere yet');
  reg.applyCities([monaco, nice]);
  t.ok(reg.city('nice'), 'the new city has a fleet');
  reg.update('d1', 43.70, 7.251, 2000, NaN, NaN);
  t.equal(reg.cityNameOf('d1'), 'nice');
  reg.update('d1', 43.74, 7.42, 3000, NaN, NaN);
  t.equal(reg.cityNameOf('d1'), 'monaco');
  t.same(heard, [['d1', 'nice'], ['d1', 'monaco']]);
});

t.test('a removed city drops its fleet; its drivers keep their status and hear city null', async (t) => {
  const reg = new FleetRegistry({ cities: [monaco, nice], rebuildMs: 1000, expireMs: 60_000 });
  const heard: Array<[string, string | null]> = [];
  reg.addCityChangeListener((id, city) => heard.push([id, city]));
  reg.update('d2', 43.70, 7.25, 1000, NaN, NaN);
  reg.setStatus('d2', 1);
  reg.applyCities([monaco]);
  t.equal(reg.city('nice'), undefined);
  t.equal(reg.cityNameOf('d2'), null);
  t.equal(reg.statusOf('d2'), 1, 'status kept for its next city');
  t.same(heard.at(-1), ['d2', null]);
  t.equal(reg.locator.locate(43.70, 7.25), null, 'the locator forgot the boundary');
});

t.test('a changed product list re-maps drivers\' bits by name', async (t) => {
  const reg = new FleetRegistry({ cities: [monaco], rebuildMs: 1000, expireMs: 60_000 });
  reg.setDriverProducts('d3', ['xl']);
  reg.update('d3', 43.74, 7.42, 1000, NaN, NaN);
  const f = reg.city('monaco')!;
  t.same(f.offered.namesOf(f.products[f.slotOf('d3')]!), ['xl']);
  reg.applyCities([{ ...monaco, products: ['xl', 'taxi', 'tow'], defaultProduct: 'taxi' }]);
  const g = reg.city('monaco')!;
  t.equal(g, f, 'the same fleet: drivers stay');
  t.same(g.offered.names, ['xl', 'taxi', 'tow']);
  t.same(g.offered.namesOf(g.products[g.slotOf('d3')]!), ['xl'], 'xl is bit 0 now, and still the driver\'s');
  t.equal(g.offered.maskOf('xl'), 1);
});
