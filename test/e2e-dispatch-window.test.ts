// End to end over real sockets: the search window (a late driver gets the offer, a rider cancel ends the search), the batched policy, bad dispatch config.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { http, onlineDriver, rebuild, removeDir, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';

const MC = { lat: 43.7384, lng: 7.4246 }; // Monaco
const square = { type: 'Polygon', coordinates: [[[7.40, 43.72], [7.44, 43.72], [7.44, 43.76], [7.40, 43.76], [7.40, 43.72]]] };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let s: TestServer;
let dir: string;
t.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-window-'));
  const cities = path.join(dir, 'cities.json');
  fs.writeFileSync(cities, JSON.stringify({ cities: [
    { name: 'monaco', timezone: 'Europe/Monaco', boundary: square, dispatch: { searchWindowMs: 30_000 } },
    { name: 'rest', timezone: 'UTC', boundary: null, dispatch: { policy: 'batched', batchWindowMs: 300, searchWindowMs: 30_000 } },
  ] }));
  s = await startServer({ TAXIWAY_CITIES: cities });
});
t.teardown(async () => {
  await s.stop();
  removeDir(s.dataDir);
  fs.rmSync(dir, { recursive: true, force: true });
});

t.test('a driver who comes online 5 s after the job was created gets its offer', async (t) => {
  const rt = await s.token('rider', 'w-r1');
  const job = await http('POST', `${s.url}/v1/jobs`, rt, { pickup: MC });
  t.equal(job.status, 201);
  t.equal(job.body.state, 'dispatching', 'nobody online: the job waits instead of ending');
  await sleep(5000);
  t.equal((await http('GET', `${s.url}/v1/jobs/${job.body.id}`, rt)).body.state, 'dispatching', 'still searching after 5 s');
  const d = await onlineDriver(s, 'w-late', MC.lat + 0.002, MC.lng);
  const offer = await d.waitFor((f) => f.t === 'offer' && f.job === job.body.id, 3000);
  t.ok(offer, 'the late driver got the offer');
  t.equal((await d.request({ t: 'accept', job: job.body.id })).t, 'ack');
  t.equal((await http('GET', `${s.url}/v1/jobs/${job.body.id}`, rt)).body.state, 'accepted');
  d.close();
});

t.test('a rider cancel during the search ends it at once', async (t) => {
  const rt = await s.token('rider', 'w-r2');
  const job = await http('POST', `${s.url}/v1/jobs`, rt, { pickup: { lat: MC.lat + 0.01, lng: MC.lng + 0.01 } });
  t.equal(job.body.state, 'dispatching');
  const del = await http('POST', `${s.url}/v1/jobs/${job.body.id}/cancel`, rt, {});
  t.equal(del.status, 200);
  t.equal(del.body.state, 'cancelled');
  const d = await onlineDriver(s, 'w-after', MC.lat + 0.01, MC.lng + 0.01);
  await sleep(500);
  t.notOk(d.frames.some((f) => f.t === 'offer' && f.job === job.body.id), 'a driver arriving afterwards is not offered it');
  t.equal((await http('GET', `${s.url}/v1/jobs/${job.body.id}`, rt)).body.state, 'cancelled');
  d.close();
});

t.test('the batched policy delivers offers (one batch window after the request)', async (t) => {
  const at = { lat: 48.8566, lng: 2.3522 }; // Paris: the catch-all city, batched
  const d1 = await onlineDriver(s, 'w-b1', at.lat + 0.001, at.lng);
  const d2 = await onlineDriver(s, 'w-b2', at.lat - 0.003, at.lng);
  rebuild(s);
  const rt = await s.token('rider', 'w-r3');
  const started = Date.now();
  const [j1, j2] = await Promise.all([
    http('POST', `${s.url}/v1/jobs`, rt, { pickup: at }),
    http('POST', `${s.url}/v1/jobs`, rt, { pickup: { lat: at.lat + 0.002, lng: at.lng } }),
  ]);
  t.equal(j1.body.state, 'dispatching');
  const o1 = await d1.waitFor((f) => f.t === 'offer', 3000);
  const o2 = await d2.waitFor((f) => f.t === 'offer', 3000);
  t.ok(Date.now() - started >= 250, 'not before the batch window');
  t.not(o1.job, o2.job, 'one job per driver');
  t.same(new Set([o1.job, o2.job]), new Set([j1.body.id, j2.body.id]), 'both jobs offered');
  d1.close();
  d2.close();
});

t.test('bad dispatch config stops the start, naming the field', async (t) => {
  const bad = (name: string, dispatch: unknown): string => {
    const f = path.join(dir, `${name}.json`);
    fs.writeFileSync(f, JSON.stringify({ cities: [{ name: 'x', timezone: 'UTC', boundary: null, dispatch }] }));
    return f;
  };
  await t.rejects(startServer({ TAXIWAY_CITIES: bad('p', { policy: 'fastest' }) }), /cities\[0\]\.dispatch\.policy "fastest" is not a dispatch policy \(greedy, batched\)/);
  await t.rejects(startServer({ TAXIWAY_DISPATCH_POLICY: 'random' }), /TAXIWAY_DISPATCH_POLICY=random: not a dispatch policy/);
  await t.rejects(startServer({ TAXIWAY_CITIES: bad('b', { batchWindowMs: 50 }) }), /cities\[0\]\.dispatch\.batchWindowMs=50: expected an integer from 100 to 60000/);
  await t.rejects(startServer({ TAXIWAY_CITIES: bad('w', { searchWindowMs: -1 }) }), /cities\[0\]\.dispatch\.searchWindowMs=-1: expected an integer from 0 to 3600000/);
  await t.rejects(startServer({ TAXIWAY_BATCH_WINDOW_MS: '70000' }), /TAXIWAY_BATCH_WINDOW_MS="70000"/);
  await t.rejects(startServer({ TAXIWAY_SEARCH_WINDOW_MS: 'soon' }), /TAXIWAY_SEARCH_WINDOW_MS="soon"/);
});
