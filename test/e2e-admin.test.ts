// End to end over real sockets: the admin API creates cities and zones at run time; a settings change reaches a connected driver as a `config` frame; a restart keeps them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { Client, http, onlineDriver, rebuild, removeDir, sleep, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';

const sq = (a: number, b: number, c: number, d: number) => ({ type: 'Polygon', coordinates: [[[a, b], [c, b], [c, d], [a, d], [a, b]]] });
const MONACO = sq(7.40, 43.72, 7.44, 43.76);
const NICE = sq(7.20, 43.66, 7.30, 43.74);
const NICE_AT = { lat: 43.70, lng: 7.25 };
const nice = {
  timezone: 'Europe/Paris', boundary: NICE, products: ['taxi', 'xl'],
  dispatch: { radiusM: 3000, offerTimeoutMs: 7000 },
  driverApp: { fixIntervalMs: { available: 4000, busy: 1000, offline: 30000 } },
};
const airport = { city: 'nice', kind: 'airport_queue', name: 'Nice airport rank', polygon: sq(7.20, 43.66, 7.22, 43.67) };

let dir: string;
let citiesFile: string;
let dataDir: string;
let s: TestServer;
let ops: string;
t.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-admin-'));
  dataDir = path.join(dir, 'data');
  citiesFile = path.join(dir, 'cities.json');
  fs.writeFileSync(citiesFile, JSON.stringify({ cities: [{ name: 'monaco', timezone: 'Europe/Monaco', boundary: MONACO }] }));
  s = await startServer({ TAXIWAY_CITIES: citiesFile, TAXIWAY_FIX_BUDGET_RATE: '0' }, dataDir);
  ops = await s.token('ops', 'ops1');
});
t.teardown(async () => {
  await s.stop();
  removeDir(dir);
});

t.test('non-ops roles get 403 on every admin route; no token 401', async (t) => {
  for (const role of ['rider', 'driver'] as const) {
    const tok = await s.token(role, `${role}-x`);
    for (const [m, p, body] of [
      ['GET', '/v1/admin/cities'], ['GET', '/v1/admin/cities/monaco'], ['PUT', '/v1/admin/cities/x', { ...nice }], ['DELETE', '/v1/admin/cities/monaco'],
      ['GET', '/v1/admin/zones'], ['GET', '/v1/admin/zones/z'], ['PUT', '/v1/admin/zones/z', airport], ['DELETE', '/v1/admin/zones/z'], ['GET', '/v1/admin/changes'],
    ] as Array<[string, string, unknown?]>) {
      const r = await http(m, `${s.url}${p}`, tok, body);
      t.equal(r.status, 403, `${role} ${m} ${p}`);
      t.equal(r.body.error.code, 'forbidden');
    }
  }
  t.equal((await http('GET', `${s.url}/v1/admin/cities`)).status, 401);
});

t.test('the cities file seeded the empty store', async (t) => {
  const r = await http('GET', `${s.url}/v1/admin/cities`, ops);
  t.equal(r.status, 200);
  t.same(r.body.cities.map((c: { city: { name: string } }) => c.city.name), ['monaco']);
  t.equal(r.body.version, 1);
});

t.test('bad input for every field: 400 naming it', async (t) => {
  const bow = { type: 'Polygon', coordinates: [[[7.2, 43.66], [7.3, 43.74], [7.3, 43.66], [7.2, 43.74], [7.2, 43.66]]] };
  const cityCases: Array<[string, unknown, RegExp, string?]> = [
    ['not an object', [1], /body must be a JSON object/],
    ['unknown field', { ...nice, colour: 'red' }, /city\.colour is not a city field/],
    ['name differs from the path', { ...nice, name: 'other' }, /name "other" differs/],
    ['bad name in the path', nice, /name must be 1-64/, 'bad.name'],
    ['timezone missing', { ...nice, timezone: undefined }, /city\.timezone is required/],
    ['unknown timezone', { ...nice, timezone: 'Mars/Olympus' }, /city\.timezone "Mars\/Olympus" is not a known IANA zone/],
    ['boundary missing', { ...nice, boundary: undefined }, /city\.boundary is required/],
    ['boundary a point', { ...nice, boundary: { type: 'Point', coordinates: [7, 43] } }, /city\.boundary must be a GeoJSON Polygon or MultiPolygon/],
    ['boundary open ring', { ...nice, boundary: { type: 'Polygon', coordinates: [[[7.2, 43.66], [7.3, 43.66], [7.3, 43.74], [7.2, 43.74]]] } }, /city\.boundary\.coordinates\[0\] is not closed/],
    ['boundary out of range', { ...nice, boundary: sq(7.2, 43.66, 200, 43.74) }, /city\.boundary\.coordinates\[0\]\[1\] must be \[lng, lat\]/],
    ['boundary self-intersecting', { ...nice, boundary: bow }, /city\.boundary\.coordinates intersects itself/],
    ['second catch-all... is fine alone', null, /x/],
    ['dispatch unknown', { ...nice, dispatch: { radius: 5 } }, /city\.dispatch\.radius is not a dispatch setting/],
    ['dispatch radiusM out of range', { ...nice, dispatch: { radiusM: 0 } }, /city\.dispatch\.radiusM=0/],
    ['dispatch offerTimeoutMs out of range', { ...nice, dispatch: { offerTimeoutMs: 10 } }, /city\.dispatch\.offerTimeoutMs=10/],
    ['dispatch maxAttempts fractional', { ...nice, dispatch: { maxAttempts: 1.5 } }, /city\.dispatch\.maxAttempts=1\.5/],
    ['dispatch staleMs not a number', { ...nice, dispatch: { staleMs: 'x' } }, /city\.dispatch\.staleMs="x"/],
    ['dispatch speedMps out of range', { ...nice, dispatch: { speedMps: 1000 } }, /city\.dispatch\.speedMps=1000/],
    ['products bad', { ...nice, products: ['Taxi!'] }, /city\.products/],
    ['defaultProduct not offered', { ...nice, defaultProduct: 'tow' }, /city\.defaultProduct tow is not in its products/],
    ['eta through the API', { ...nice, eta: { seedTrips: 'x.csv' } }, /city\.eta: ETA seed files are set in the cities file only/],
    ['driverApp unknown', { ...nice, driverApp: { colour: 1 } }, /city\.driverApp\.colour is not a driver-app setting/],
    ['driverApp state unknown', { ...nice, driverApp: { fixIntervalMs: { flying: 1000 } } }, /city\.driverApp\.fixIntervalMs\.flying is not a driver state/],
    ['driverApp interval out of range', { ...nice, driverApp: { fixIntervalMs: { available: 5 } } }, /city\.driverApp\.fixIntervalMs\.available=5/],
  ];
  for (const [what, body, re, name] of cityCases) {
    if (body === null) continue;
    const r = await http('PUT', `${s.url}/v1/admin/cities/${name ?? 'nice'}`, ops, body);
    t.equal(r.status, 400, what);
    t.match(r.body.error?.message, re, what);
  }
  t.equal((await http('GET', `${s.url}/v1/admin/cities/nice`, ops)).status, 404, 'nothing was created');
  const invalidJson = await http('PUT', `${s.url}/v1/admin/cities/nice`, ops, '{"timezone":');
  t.equal(invalidJson.status, 400);

  const zoneCases: Array<[string, unknown, RegExp]> = [
    ['unknown field', { ...airport, colour: 1 }, /zone\.colour is not a zone field/],
    ['kind', { ...airport, kind: 'parking' }, /zone\.kind must be one of airport_queue, no_pickup, info/],
    ['city missing', { ...airport, city: undefined }, /zone\.city must be a city name/],
    ['city unknown', { ...airport, city: 'atlantis' }, /city: no city atlantis/],
    ['name too long', { ...airport, name: 'x'.repeat(201) }, /zone\.name must be a string of at most 200/],
    ['polygon missing', { ...airport, polygon: undefined }, /zone\.polygon is required/],
    ['polygon a multipolygon', { ...airport, city: 'monaco', polygon: { type: 'MultiPolygon', coordinates: [] } }, /zone\.polygon must be a GeoJSON Polygon/],
    ['polygon self-intersecting', { ...airport, city: 'monaco', polygon: { type: 'Polygon', coordinates: [[[7.41, 43.73], [7.42, 43.74], [7.42, 43.73], [7.41, 43.74], [7.41, 43.73]]] } }, /zone\.polygon\.coordinates intersects itself/],
    ['polygon outside its city', { ...airport, city: 'monaco', polygon: sq(7.43, 43.75, 7.45, 43.77) }, /polygon is not inside the boundary of city monaco/],
  ];
  for (const [what, body, re] of zoneCases) {
    const r = await http('PUT', `${s.url}/v1/admin/zones/z1`, ops, body);
    t.equal(r.status, 400, what);
    t.match(r.body.error?.message, re, what);
  }
  const big = await http('PUT', `${s.url}/v1/admin/cities/nice`, ops, { ...nice, pad: 'x'.repeat(2 * 1024 * 1024) });
  t.equal(big.status, 413, 'over TAXIWAY_ADMIN_MAX_BODY_BYTES');
});

t.test('a city created at run time: its drivers get its config, its jobs are dispatched, nearby honours its radius', async (t) => {
  const put = await http('PUT', `${s.url}/v1/admin/cities/nice`, ops, nice);
  t.equal(put.status, 201);
  t.equal(put.body.version, 2);
  t.same(put.body.city, { name: 'nice', ...nice });
  t.same((await http('GET', `${s.url}/v1/admin/cities/nice`, ops)).body, { version: 2, city: { name: 'nice', ...nice } });

  const d = await Client.open(`${s.wsUrl}/v1/driver/ws`, await s.token('driver', 'nice-d1'));
  await d.waitFor((f) => f.t === 'hello');
  const first = await d.waitFor((f) => f.t === 'config');
  t.equal(first.city, null, 'no fix yet: no city');
  t.equal(d.frames.findIndex((f) => f.t === 'config'), 1, 'config right after hello');
  t.equal((await d.request({ t: 'loc', ...NICE_AT, ts: Date.now() })).t, 'ack');
  const cfg = await d.waitFor((f) => f.t === 'config' && f.city === 'nice');
  t.same(cfg.fix_interval_ms, { available: 4000, busy: 1000, offline: 30000 });
  t.equal(cfg.offer_timeout_ms, 7000);
  t.same(cfg.products, ['taxi']);
  t.equal((await d.request({ t: 'status', s: 'available' })).t, 'ack');
  rebuild(s);

  // nearby: the city's radius (3 km) is the default; a driver 3.9 km away is out of it.
  const rider = await s.token('rider', 'nice-r1');
  const near = await http('GET', `${s.url}/v1/drivers/nearby?lat=${NICE_AT.lat - 0.035}&lng=${NICE_AT.lng}`, rider);
  t.equal(near.body.city, 'nice');
  t.equal(near.body.drivers.length, 0, '3.9 km: outside the city radius of 3 km');
  t.equal((await http('GET', `${s.url}/v1/drivers/nearby?lat=${NICE_AT.lat + 0.01}&lng=${NICE_AT.lng}`, rider)).body.drivers.length, 1);

  const job = await http('POST', `${s.url}/v1/jobs`, rider, { pickup: { lat: NICE_AT.lat + 0.001, lng: NICE_AT.lng } });
  t.equal(job.status, 201);
  t.equal(job.body.city, 'nice');
  const offer = await d.waitFor((f) => f.t === 'offer' && f.job === job.body.id);
  t.ok((offer.expires_ts as number) - Date.now() > 5000, 'the city offer timeout (7 s)');
  t.equal((await d.request({ t: 'decline', job: job.body.id })).t, 'ack');

  // A settings change reaches the connected driver as a config frame within a second.
  const mark = d.frames.length;
  const t0 = Date.now();
  const put2 = await http('PUT', `${s.url}/v1/admin/cities/nice`, ops, { ...nice, driverApp: { fixIntervalMs: { available: 2000 } }, dispatch: { offerTimeoutMs: 9000 } });
  t.equal(put2.status, 200);
  const cfg2 = await d.waitFor((f) => f.t === 'config', 1000, mark);
  t.ok(Date.now() - t0 < 1000);
  t.same(cfg2.fix_interval_ms, { available: 2000, busy: 1000, offline: 1000 }, 'unset states take TAXIWAY_FIX_INTERVAL_MS');
  t.equal(cfg2.offer_timeout_ms, 9000);
  t.equal(cfg2.v, put2.body.version);

  // Zones: created, listed, read.
  const z = await http('PUT', `${s.url}/v1/admin/zones/nce-airport`, ops, airport);
  t.equal(z.status, 201);
  t.same(z.body.zone, { id: 'nce-airport', ...airport });
  t.same((await http('GET', `${s.url}/v1/admin/zones?city=nice`, ops)).body.zones.map((x: { zone: { id: string } }) => x.zone.id), ['nce-airport']);
  t.equal((await http('GET', `${s.url}/v1/admin/zones/nce-airport`, ops)).body.zone.kind, 'airport_queue');

  // Deleting: a city with zones or live drivers is refused (409); a zone goes.
  const delCity = await http('DELETE', `${s.url}/v1/admin/cities/nice`, ops);
  t.equal(delCity.status, 409);
  t.match(delCity.body.error.message, /zone/);
  const shrink = await http('PUT', `${s.url}/v1/admin/cities/nice`, ops, { ...nice, boundary: sq(7.25, 43.68, 7.30, 43.74) });
  t.equal(shrink.status, 409, 'a boundary that would leave a zone outside');
  t.equal((await http('DELETE', `${s.url}/v1/admin/zones/nce-airport`, ops)).status, 200);
  t.equal((await http('DELETE', `${s.url}/v1/admin/zones/nce-airport`, ops)).status, 404);
  const delLive = await http('DELETE', `${s.url}/v1/admin/cities/nice`, ops);
  t.equal(delLive.status, 409);
  t.match(delLive.body.error.message, /live driver/);
  d.close();

  const hist = await http('GET', `${s.url}/v1/admin/changes?limit=3`, ops);
  t.same(hist.body.changes.map((c: { kind: string; key: string; doc: unknown }) => [c.kind, c.key, c.doc === null]), [['zone', 'nce-airport', true], ['zone', 'nce-airport', false], ['city', 'nice', false]]);
});

t.test('a restart keeps cities and zones; the cities file does not seed a store already written', async (t) => {
  t.equal((await http('PUT', `${s.url}/v1/admin/zones/casino`, ops, { city: 'monaco', kind: 'no_pickup', polygon: sq(7.42, 43.73, 7.43, 43.74) })).status, 201);
  t.equal((await http('PUT', `${s.url}/v1/admin/cities/empty`, ops, { timezone: 'UTC', boundary: sq(10, 10, 11, 11) })).status, 201);
  t.equal((await http('DELETE', `${s.url}/v1/admin/cities/empty`, ops)).status, 200);
  const before = await http('GET', `${s.url}/v1/admin/cities`, ops);
  await s.stop();
  s = await startServer({ TAXIWAY_CITIES: citiesFile, TAXIWAY_FIX_BUDGET_RATE: '0' }, dataDir);
  const after = await http('GET', `${s.url}/v1/admin/cities`, ops);
  t.same(after.body, before.body);
  t.same(after.body.cities.map((c: { city: { name: string } }) => c.city.name), ['monaco', 'nice']);
  t.equal((await http('GET', `${s.url}/v1/admin/zones/casino`, ops)).body.zone.kind, 'no_pickup');
  // The restarted node works in the city created at run time.
  const d = await onlineDriver(s, 'nice-d2', NICE_AT.lat, NICE_AT.lng);
  t.equal(s.app.fleet.cityNameOf('nice-d2'), 'nice');
  await sleep(10);
  d.close();
});
