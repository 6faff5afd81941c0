// CityLocator: polygon and multipolygon boundaries, bbox pre-check, world fallback and config errors; mirrored positions into the registry.
import t from 'tap';
import { CityLocator } from '../src/fleet/city-locator.js';
import { FleetRegistry } from '../src/fleet/fleet-registry.js';
import type { CityDef } from '../src/config/cities.js';

// A square around central Paris with a square hole, in [lng, lat].
const paris: CityDef = {
  name: 'paris',
  timezone: 'Europe/Paris',
  boundary: {
    type: 'Polygon',
    coordinates: [
      [[2.2, 48.8], [2.5, 48.8], [2.5, 48.95], [2.2, 48.95], [2.2, 48.8]],
      [[2.30, 48.85], [2.32, 48.85], [2.32, 48.86], [2.30, 48.86], [2.30, 48.85]],
    ],
  },
  dispatch: { radiusM: 3000 },
};
// Two islands, and a triangle whose bbox contains points outside it.
const islands: CityDef = {
  name: 'islands',
  timezone: 'Pacific/Honolulu',
  boundary: {
    type: 'MultiPolygon',
    coordinates: [
      [[[-158.3, 21.2], [-157.6, 21.2], [-157.6, 21.8], [-158.3, 21.8], [-158.3, 21.2]]],
      [[[-156.7, 20.5], [-155.9, 20.5], [-156.7, 21.1], [-156.7, 20.5]]],
    ],
  },
};
const world: CityDef = { name: 'world', timezone: 'UTC', boundary: null };

t.test('polygons, holes, multipolygons', async (t) => {
  const loc = new CityLocator([paris, islands]);
  t.equal(loc.locate(48.9, 2.35), 'paris');
  t.equal(loc.locate(48.855, 2.31), null, 'inside the hole');
  t.equal(loc.locate(51.5, -0.12), null, 'London is nowhere');
  t.equal(loc.locate(21.3, -157.85), 'islands');
  t.equal(loc.locate(20.6, -156.6), 'islands', 'inside the triangle');
  t.equal(loc.locate(21.0, -156.0), null, 'inside the triangle bbox but outside the triangle');
  t.equal(loc.locate(NaN, 2.35), null);
});

t.test('world city catches the rest and is checked last', async (t) => {
  const loc = new CityLocator([world, paris]);
  t.equal(loc.locate(48.9, 2.35), 'paris', 'bounded city wins even when listed after the world city');
  t.equal(loc.locate(51.5, -0.12), 'world');
  t.equal(loc.locate(48.855, 2.31), 'world', 'hole falls through to the world');
});

t.test('single world city fast path', async (t) => {
  const loc = new CityLocator([world]);
  t.equal(loc.locate(0, 0), 'world');
  t.equal(loc.locate(-89.9, 179.9), 'world');
  t.equal(loc.locate(100, 0), null, 'invalid latitude');
  t.equal(new CityLocator([]).locate(0, 0), null);
});

t.test('config errors', async (t) => {
  t.throws(() => new CityLocator([world, { ...world, name: 'world2' }]), /both have a null/);
  t.throws(() => new CityLocator([paris, paris]), /defined twice/);
});

t.test('FleetRegistry.applyRemote: newer mirrored positions move the driver and reach remote-move listeners; older ones are ignored', async (t) => {
  const reg = new FleetRegistry({ cities: [{ name: 'world', timezone: 'UTC', boundary: null }], rebuildMs: 1000, expireMs: 3_600_000 });
  const heard: Array<[string, string, number, number, number]> = [];
  let echoed = 0;
  reg.addRemoteMoveListener((id, city, lat, lng, ts) => void heard.push([id, city, lat, lng, ts]));
  reg.addLocalChangeListener(() => void echoed++);
  reg.applyRemote('r1', 'world', 45, 7, 2000, NaN, NaN, 1);
  reg.applyRemote('r1', 'world', 45.001, 7, 1000, NaN, NaN, 1); // older: a node never moves a driver back
  reg.applyRemote('r1', 'world', 45.002, 7, 3000, NaN, NaN, 1);
  t.same(heard, [['r1', 'world', 45, 7, 2000], ['r1', 'world', 45.002, 7, 3000]]);
  t.match(reg.position('r1'), { lat: 45.002, lng: 7, ts: 3000 });
  t.equal(echoed, 0, 'no local-change echo');
});

t.test('FleetRegistry listeners: a second listener of each kind is added, never replaces the first', async (t) => {
  const reg = new FleetRegistry({ cities: [{ name: 'world', timezone: 'UTC', boundary: null }], rebuildMs: 1000, expireMs: 60_000 });
  const calls: string[] = [];
  for (const who of ['a', 'b']) {
    reg.addLocalChangeListener((id) => void calls.push(`${who}:local:${id}`));
    reg.addRemoteMoveListener((id) => void calls.push(`${who}:remote:${id}`));
    reg.addExpireListener((ids) => void calls.push(`${who}:expire:${ids.join(',')}`));
  }
  const now = Date.now();
  reg.update('d1', 45, 7, now - 120_000, NaN, NaN);
  reg.setStatus('d1', 1);
  reg.applyRemote('r1', 'world', 45, 7, now, NaN, NaN, 1);
  reg.expire(now);
  t.same(calls, [
    'a:local:d1', 'b:local:d1',
    'a:local:d1', 'b:local:d1',
    'a:remote:r1', 'b:remote:r1',
    'a:expire:d1', 'b:expire:d1',
  ], 'every listener hears every event, in the order added');
});
