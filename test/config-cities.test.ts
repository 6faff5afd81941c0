// The cities file: every city needs a boundary and an IANA timezone; every bad field is named in the error.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { loadCities } from '../src/config/cities.js';
import { ConfigError } from '../src/config/config-error.js';
import { loadConfig } from '../src/config/load-config.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-cities-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(cities: unknown): string {
  const f = path.join(dir, `cities-${n++}.json`);
  fs.writeFileSync(f, JSON.stringify({ cities }));
  return f;
}
const square = { type: 'Polygon', coordinates: [[[7.40, 43.72], [7.44, 43.72], [7.44, 43.76], [7.40, 43.76], [7.40, 43.72]]] };
const monaco = { name: 'monaco', timezone: 'Europe/Monaco', boundary: square };

/** The ConfigError message loading `cities` gives ('loaded' if it loads, the error's name if it is another error). */
function failure(cities: unknown): string {
  try {
    loadCities(file(cities));
    return 'loaded';
  } catch (e) {
    return e instanceof ConfigError ? e.message : String(e);
  }
}

t.test('a valid file loads with typed dispatch overrides', async (t) => {
  const cities = loadCities(file([{ ...monaco, dispatch: { radiusM: 3000, offerTimeoutMs: 8000, speedMps: 9.5 } }, { name: 'rest', timezone: 'UTC', boundary: null }]));
  t.equal(cities.length, 2);
  t.same(cities[0]!.dispatch, { radiusM: 3000, offerTimeoutMs: 8000, speedMps: 9.5 });
  t.equal(cities[1]!.boundary, null);
  const config = loadConfig({ TAXIWAY_CITIES: file([monaco]), TAXIWAY_DATA_DIR: dir });
  t.same(config.cities.map((c) => c.name), ['monaco']);
});

t.test('a city lacking boundary or timezone is refused, naming the field', async (t) => {
  t.match(failure([{ name: 'x' }]), /cities\[0\]\.timezone is required/, 'no timezone, no boundary');
  t.match(failure([{ name: 'x', timezone: 'Europe/Paris' }]), /cities\[0\]\.boundary is required/, 'no boundary');
  t.match(failure([{ name: 'x', boundary: square }]), /cities\[0\]\.timezone is required/, 'no timezone');
  t.match(failure([monaco, { name: 'y', timezone: 'Mars/Olympus', boundary: null }]), /cities\[1\]\.timezone "Mars\/Olympus" is not a known IANA zone/, 'unknown zone');
  t.match(failure([{ ...monaco, timezone: 7 }]), /cities\[0\]\.timezone must be an IANA zone/, 'zone not a string');
});

t.test('boundaries must be valid GeoJSON polygons in degrees', async (t) => {
  t.match(failure([{ ...monaco, boundary: { type: 'Point', coordinates: [7.4, 43.7] } }]), /cities\[0\]\.boundary must be a GeoJSON Polygon or MultiPolygon/, 'a point');
  t.match(failure([{ ...monaco, boundary: { type: 'Polygon', coordinates: [] } }]), /cities\[0\]\.boundary\.coordinates must be a non-empty array/, 'no rings');
  t.match(failure([{ ...monaco, boundary: { type: 'Polygon', coordinates: [[[7.4, 43.7], [7.5, 43.7], [7.4, 43.7]]] } }]), /boundary\.coordinates\[0\] must be a ring of at least 4/, 'short ring');
  t.match(failure([{ ...monaco, boundary: { type: 'Polygon', coordinates: [[[7.4, 43.7], [7.5, 43.7], [7.5, 43.8], [7.4, 43.8]]] } }]), /coordinates\[0\] is not closed/, 'open ring');
  t.match(failure([{ ...monaco, boundary: { type: 'Polygon', coordinates: [[[43.7, 7.4], [43.7, 200], [43.8, 7.5], [43.7, 7.4]]] } }]), /coordinates\[0\]\[1\] must be \[lng, lat\]/, 'latitude out of range');
  t.match(failure([{ ...monaco, boundary: { type: 'MultiPolygon', coordinates: [square.coordinates, [['a']]] } }]), /boundary\.coordinates\[1\]\[0\] must be a ring/, 'bad second polygon');
  t.match(failure([{ name: 'a', timezone: 'UTC', boundary: null }, { name: 'b', timezone: 'UTC', boundary: null }]), /cities\[1\]\.boundary: only one city may have a null boundary/, 'two catch-alls');
});

t.test('dispatch overrides are range-checked like their settings', async (t) => {
  t.match(failure([{ ...monaco, dispatch: { radiusM: 0 } }]), /cities\[0\]\.dispatch\.radiusM=0: expected an integer from 10 to 1000000/, 'radius too small');
  t.match(failure([{ ...monaco, dispatch: { maxAttempts: 2.5 } }]), /dispatch\.maxAttempts=2\.5: expected an integer/, 'fractional attempts');
  t.match(failure([{ ...monaco, dispatch: { offerTimeoutMs: '8000' } }]), /dispatch\.offerTimeoutMs="8000"/, 'a string');
  t.match(failure([{ ...monaco, dispatch: { radius: 3000 } }]), /cities\[0\]\.dispatch\.radius is not a dispatch setting/, 'unknown key');
  t.match(failure([{ ...monaco, dispatch: [] }]), /cities\[0\]\.dispatch must be an object/, 'an array');
});

t.test('names, unknown fields, ETA seeds and the file itself', async (t) => {
  t.match(failure([{ ...monaco, name: 'a b' }]), /cities\[0\]\.name must be/, 'bad name');
  t.match(failure([monaco, monaco]), /cities\[1\]\.name monaco is used twice/, 'duplicate');
  t.match(failure([{ ...monaco, timeZone: 'UTC' }]), /cities\[0\]\.timeZone is not a city field/, 'misspelt field');
  t.match(failure([{ ...monaco, eta: { seedTrips: 'missing.csv' } }]), /cities\[0\]\.eta\.seedTrips: missing\.csv not found/, 'missing seed');
  t.match(failure([]), /at least one city/, 'empty');
  t.throws(() => loadCities(path.join(dir, 'nope.json')), /TAXIWAY_CITIES=.*nope\.json/);
});

t.test('products and defaultProduct: a valid list, a default it holds, every error naming the field', async (t) => {
  const [c] = loadCities(file([{ ...monaco, products: ['taxi', 'xl', 'tow'] }]));
  t.same(c!.products, ['taxi', 'xl', 'tow']);
  const [d] = loadCities(file([{ ...monaco, products: ['xl', 'tow'], defaultProduct: 'xl' }]));
  t.equal(d!.defaultProduct, 'xl');
  t.match(failure([{ ...monaco, products: 'taxi' }]), /cities\[0\]\.products must be an array of product names/);
  t.match(failure([{ ...monaco, products: [] }]), /cities\[0\]\.products must list 1-32 products/);
  t.match(failure([{ ...monaco, products: Array.from({ length: 33 }, (_, i) => `p${i}`) }]), /cities\[0\]\.products must list 1-32 products, got 33/);
  t.match(failure([{ ...monaco, products: ['taxi', 'Big Car'] }]), /cities\[0\]\.products has "Big Car"/);
  t.match(failure([{ ...monaco, products: ['taxi', 'taxi'] }]), /cities\[0\]\.products lists taxi twice/);
  t.match(failure([{ ...monaco, products: ['xl'] }]), /cities\[0\]\.defaultProduct taxi is not in its products \(xl\): set defaultProduct/);
  t.match(failure([{ ...monaco, products: ['xl'], defaultProduct: 'tow' }]), /cities\[0\]\.defaultProduct tow is not in/);
  t.match(failure([{ ...monaco, defaultProduct: 7 }]), /cities\[0\]\.defaultProduct must be 1-32 of a-z 0-9 _ -/);
  const [e] = loadCities(file([{ ...monaco, defaultProduct: 'xl' }]));
  t.equal(e!.defaultProduct, 'xl', 'without a list, the default product is the one offered');
});

t.test('the file and the admin API share the checks: self-intersecting rings, driverApp intervals', async (t) => {
  const bow = { type: 'Polygon', coordinates: [[[7.40, 43.72], [7.44, 43.76], [7.44, 43.72], [7.40, 43.76], [7.40, 43.72]]] };
  t.match(failure([{ ...monaco, boundary: bow }]), /cities\[0\]\.boundary\.coordinates intersects itself/, 'a bow tie');
  t.match(failure([{ ...monaco, driverApp: { fixIntervalMs: { busy: 50 } } }]), /cities\[0\]\.driverApp\.fixIntervalMs\.busy=50/, 'below the range');
  t.match(failure([{ ...monaco, driverApp: { fixIntervalMs: { parked: 1000 } } }]), /driverApp\.fixIntervalMs\.parked is not a driver state/, 'unknown state');
  const cities = loadCities(file([{ ...monaco, driverApp: { fixIntervalMs: { available: 4000, busy: 1000 } } }]));
  t.same(cities[0]!.driverApp, { fixIntervalMs: { available: 4000, busy: 1000 } });
  t.throws(() => loadConfig({ TAXIWAY_CITIES: file([{ ...monaco, driverApp: { fixIntervalMs: { busy: 100 } } }]), TAXIWAY_DATA_DIR: dir }), /busy=100: below 200 ms, the interval TAXIWAY_FIX_BUDGET_RATE covers/, 'the fix budget (5/s) must cover it');
});
