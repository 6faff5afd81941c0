// End to end over real sockets: zones made through the admin API refuse pickups (no_pickup), report drivers' enter/exit to ops, and queue drivers at airports.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { Client, NO_JOB_LIMITS, http, removeDir, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';

const sq = (a: number, b: number, c: number, d: number) => ({ type: 'Polygon', coordinates: [[[a, b], [c, b], [c, d], [a, d], [a, b]]] });
const NICE = sq(7.20, 43.66, 7.30, 43.74);
const nice = { timezone: 'Europe/Paris', boundary: NICE, products: ['taxi'] };

let dir: string;
let s: TestServer;
let ops: string;
t.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-zones-'));
  const citiesFile = path.join(dir, 'cities.json');
  fs.writeFileSync(citiesFile, JSON.stringify({ cities: [{ name: 'monaco', timezone: 'Europe/Monaco', boundary: sq(7.40, 43.72, 7.44, 43.76) }] }));
  s = await startServer({ ...NO_JOB_LIMITS, TAXIWAY_CITIES: citiesFile, TAXIWAY_FIX_BUDGET_RATE: '0' }, path.join(dir, 'data'));
  ops = await s.token('ops', 'ops1');
  t.equal((await http('PUT', `${s.url}/v1/admin/cities/nice`, ops, nice)).status, 201);
});
t.teardown(async () => {
  await s.stop();
  removeDir(dir);
});

t.test('no_pickup: a job picked up inside the zone is refused 400 pickup_not_allowed naming it; outside is fine', async (t) => {
  const z = await http('PUT', `${s.url}/v1/admin/zones/promenade`, ops, { city: 'nice', kind: 'no_pickup', name: 'Promenade', polygon: sq(7.25, 43.69, 7.26, 43.70) });
  t.equal(z.status, 201);
  const rider = await s.token('rider', 'r-np');
  const inside = await http('POST', `${s.url}/v1/jobs`, rider, { pickup: { lat: 43.695, lng: 7.255 } });
  t.equal(inside.status, 400);
  t.equal(inside.body.error.code, 'pickup_not_allowed');
  t.equal(inside.body.error.zone, 'promenade');
  t.match(inside.body.error.message, /no_pickup zone promenade \(Promenade\)/);
  const outside = await http('POST', `${s.url}/v1/jobs`, rider, { pickup: { lat: 43.705, lng: 7.255 } });
  t.equal(outside.status, 201, 'outside the zone');
  // An info zone over the same place does not refuse; deleting the no_pickup zone lifts the refusal at once.
  t.equal((await http('PUT', `${s.url}/v1/admin/zones/old-town`, ops, { city: 'nice', kind: 'info', polygon: sq(7.252, 43.692, 7.258, 43.698) })).status, 201);
  t.equal((await http('POST', `${s.url}/v1/jobs`, rider, { pickup: { lat: 43.695, lng: 7.255 } })).body.error.code, 'pickup_not_allowed', 'a smaller info zone on top does not hide it');
  t.equal((await http('DELETE', `${s.url}/v1/admin/zones/promenade`, ops)).status, 200);
  t.equal((await http('POST', `${s.url}/v1/jobs`, rider, { pickup: { lat: 43.695, lng: 7.255 } })).status, 201, 'zone deleted: allowed');
  await http('DELETE', `${s.url}/v1/admin/zones/old-town`, ops);
});



t.test('zone enter and exit reach a subscribed ops socket, with hysteresis at the edge', async (t) => {
  t.equal((await http('PUT', `${s.url}/v1/admin/zones/station`, ops, { city: 'nice', kind: 'info', name: 'Gare', polygon: sq(7.26, 43.70, 7.27, 43.71) })).status, 201);
  const o = await Client.open(`${s.wsUrl}/v1/ops/ws`, ops);
  t.equal((await o.request({ t: 'sub', city: 'nice' })).t, 'ack');
  const d = await Client.open(`${s.wsUrl}/v1/driver/ws`, await s.token('driver', 'dz1'));
  await d.waitFor((f) => f.t === 'hello');
  let ts = Date.now() - 600_000; // fixes 30 s apart: the moves stay plausible for the jump filter
  const fix = async (lat: number, lng: number) => t.equal((await d.request({ t: 'loc', lat, lng, ts: (ts += 30_000) })).t, 'ack');
  await fix(43.699, 7.265); // outside
  await fix(43.705, 7.265); // inside: enter
  const enter = await o.waitFor((f) => f.t === 'zone' && f.driver === 'dz1');
  t.match(enter, { t: 'zone', driver: 'dz1', zone: 'station', city: 'nice', kind: 'info', ev: 'enter' });
  t.equal(Number(enter.ts), ts);
  const mark = o.frames.length;
  // Jitter: two fixes just outside, then inside again: no exit (TAXIWAY_ZONE_EXIT_FIXES = 3).
  await fix(43.6999, 7.265);
  await fix(43.6999, 7.265 + 0.00001);
  await fix(43.701, 7.265);
  await fix(43.699, 7.265);
  await fix(43.6989, 7.265);
  t.notOk(o.frames.slice(mark).some((f) => f.t === 'zone'), 'no event while within the hysteresis');
  await fix(43.6988, 7.265); // third outside in a row: exit
  const exit = await o.waitFor((f) => f.t === 'zone' && f.ev === 'exit', 5000, mark);
  t.match(exit, { driver: 'dz1', zone: 'station', ev: 'exit' });
  t.equal(Number(exit.ts), ts);
  // Metrics count both.
  const m = await (await fetch(`${s.url}/metrics`)).text();
  t.match(m, /taxiway_zone_events_total\{kind="info",ev="enter"\} 1/);
  t.match(m, /taxiway_zone_events_total\{kind="info",ev="exit"\} 1/);
  // Deleting the zone exits a driver inside it at once.
  await fix(43.705, 7.265);
  await o.waitFor((f) => f.t === 'zone' && f.ev === 'enter', 5000, mark);
  const mark2 = o.frames.length;
  t.equal((await http('DELETE', `${s.url}/v1/admin/zones/station`, ops)).status, 200);
  await fix(43.705, 7.2651);
  t.match(await o.waitFor((f) => f.t === 'zone', 5000, mark2), { zone: 'station', ev: 'exit' });
  d.close();
  o.close();
});
