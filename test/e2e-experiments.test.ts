// End to end over real sockets: a switchback experiment from a cities file: jobs take their window's arm (and its params), the report answers ops only, bad configs stop the start.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ConfigError } from '../src/config/config-error.js';
import type { ExperimentDef } from '../src/config/experiments.js';
import { SwitchbackSchedule } from '../src/matching/switchback.js';
import { Client, http, onlineDriver, rebuild, removeDir, sleep, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';

const MC = { lat: 43.7384, lng: 7.4246 }; // Monaco
const square = { type: 'Polygon', coordinates: [[[7.40, 43.72], [7.44, 43.72], [7.44, 43.76], [7.40, 43.76], [7.40, 43.72]]] };
// Arm `near` searches 100 m around the pickup, `wide` 5 km: the driver 550 m away is only offered `wide` jobs.
const experiment: ExperimentDef = {
  name: 'radius', windowMs: 1500, seed: 20261204,
  arms: [{ name: 'wide', policy: 'greedy', params: { radiusM: 5000 } }, { name: 'near', policy: 'greedy', params: { radiusM: 100 } }],
};
const schedule = new SwitchbackSchedule('monaco', experiment);

let s: TestServer;
let dir: string;
function citiesFile(name: string, experiments: unknown): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, JSON.stringify({ cities: [{ name: 'monaco', timezone: 'Europe/Monaco', boundary: square, experiments }, { name: 'rest', timezone: 'UTC', boundary: null }] }));
  return f;
}
t.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-exp-'));
  s = await startServer({ TAXIWAY_CITIES: citiesFile('cities.json', [experiment]), TAXIWAY_OFFER_TIMEOUT_MS: '3000' });
});
t.teardown(async () => {
  await s.stop();
  removeDir(s.dataDir);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Sleep until a window of arm `arm` has just begun (at least 1 s of it left). */
async function waitForArm(arm: number): Promise<void> {
  for (;;) {
    const now = Date.now();
    const w = schedule.windowOf(now);
    const next = schedule.armOfWindow(w + 1) === arm ? w + 1 : schedule.armOfWindow(w + 2) === arm ? w + 2 : w + 3;
    if (schedule.armOfWindow(w) === arm && schedule.windowStart(w + 1) - now > 1000) return;
    await sleep(schedule.windowStart(next) - now + 20);
  }
}

t.test('jobs created in different windows get their window’s arm and its params; the record and every event carry it', async (t) => {
  const d = await onlineDriver(s, 'x-d1', MC.lat + 0.005, MC.lng); // ~550 m north
  rebuild(s);
  const rt = await s.token('rider', 'x-r1');
  const r = await Client.open(`${s.wsUrl}/v1/rider/ws`, rt, true);

  await waitForArm(0);
  const wide = await http('POST', `${s.url}/v1/jobs`, rt, { pickup: MC });
  t.equal(wide.status, 201);
  t.equal(wide.body.arm, 'radius/wide');
  const id = wide.body.id as string;
  await d.waitFor((f) => f.t === 'offer' && f.job === id);
  t.equal((await d.request({ t: 'accept', job: id })).t, 'ack');
  await r.request({ t: 'sub', job: id });
  await r.waitFor((f) => f.t === 'job' && f.job === id && f.state === 'accepted');
  for (const step of ['arrived', 'start', 'complete']) t.equal((await d.request({ t: step, job: id })).t, 'ack', step);
  await r.waitFor((f) => f.t === 'job' && f.job === id && f.state === 'completed');

  await waitForArm(1);
  const near = await http('POST', `${s.url}/v1/jobs`, rt, { pickup: MC });
  t.equal(near.body.arm, 'radius/near');
  t.equal(near.body.state, 'unfulfilled', 'the near arm’s 100 m radius finds no driver: its params applied');
  t.notOk(d.frames.some((f) => f.t === 'offer' && f.job === near.body.id));

  const got = await http('GET', `${s.url}/v1/jobs/${id}`, rt);
  t.equal(got.body.arm, 'radius/wide', 'the record keeps its arm');
  await sleep(300); // events are stored asynchronously after their commit
  const events = await s.app.storage.jobEvents(id);
  t.same(events.map((e) => e.state), ['dispatching', 'accepted', 'arrived', 'in_progress', 'completed']);
  t.ok(events.every((e) => e.snapshot.arm === 'radius/wide'), 'every event carries the arm');
  const outside = await http('POST', `${s.url}/v1/jobs`, rt, { pickup: { lat: 48.85, lng: 2.35 } });
  t.equal(outside.status, 201);
  t.notOk('arm' in outside.body, 'a city without an experiment: no arm field at all');
  d.close();
  r.close();
});

t.test('GET /v1/experiments reports per arm for ops, 403 for other roles', async (t) => {
  const ops = await s.token('ops', 'x-ops');
  const res = await http('GET', `${s.url}/v1/experiments`, ops);
  t.equal(res.status, 200);
  const [e] = res.body.experiments;
  t.equal(e.city, 'monaco');
  t.equal(e.name, 'radius');
  t.equal(e.window_ms, 1500);
  t.ok(['wide', 'near'].includes(e.current_arm));
  const wide = e.arms.find((a: { name: string }) => a.name === 'wide');
  const near = e.arms.find((a: { name: string }) => a.name === 'near');
  t.equal(wide.jobs, 1);
  t.equal(wide.fulfilled, 1);
  t.equal(wide.rates.fulfilment_rate, 1);
  t.equal(wide.measures.offers_per_job.mean, 1);
  t.equal(wide.measures.pickup_wait_s.n, 1);
  t.type(wide.measures.time_to_accept_s.p50, 'number');
  t.type(wide.measures.pickup_eta_s.mean, 'number');
  t.equal(near.jobs, 1);
  t.equal(near.rates.fulfilment_rate, 0);
  t.equal(near.measures.offers_per_job.mean, 0);
  t.same(e.comparisons[0].arm, 'near');
  t.same(e.comparisons[0].outcomes.fulfilment_rate.windows, [1, 1]);
  t.equal(e.comparisons[0].outcomes.fulfilment_rate.ci95, null, 'one window per arm: no interval yet');
  for (const role of ['rider', 'driver'] as const) {
    const refused = await http('GET', `${s.url}/v1/experiments`, await s.token(role, `x-${role}`));
    t.equal(refused.status, 403, role);
  }
  t.equal((await http('GET', `${s.url}/v1/experiments`)).status, 401);
  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  t.match(metrics, /taxiway_experiment_jobs_total\{city="monaco",experiment="radius",arm="wide",state="completed"\} 1/);
  t.match(metrics, /taxiway_experiment_jobs_total\{city="monaco",experiment="radius",arm="near",state="unfulfilled"\} 1/);
});

t.test('embedded mode: the report survives a restart (windows written through to the data dir)', async (t) => {
  const ops = await s.token('ops', 'x-ops');
  const before = (await http('GET', `${s.url}/v1/experiments`, ops)).body.experiments[0];
  await s.stop();
  s = await startServer({ TAXIWAY_CITIES: path.join(dir, 'cities.json'), TAXIWAY_OFFER_TIMEOUT_MS: '3000' }, s.dataDir);
  const after = (await http('GET', `${s.url}/v1/experiments`, await s.token('ops', 'x-ops'))).body.experiments[0];
  for (const k of [0, 1]) {
    t.equal(after.arms[k].jobs, before.arms[k].jobs, `${before.arms[k].name}: jobs`);
    t.same(after.arms[k].measures, before.arms[k].measures, `${before.arms[k].name}: measures`);
    t.equal(after.arms[k].rates.fulfilment_rate, before.arms[k].rates.fulfilment_rate);
  }
});

t.test('a bad experiment stops the start with an error naming the field', async (t) => {
  const bad = async (file: string): Promise<string> => {
    try {
      const other = await startServer({ TAXIWAY_CITIES: file });
      await other.stop();
      removeDir(other.dataDir);
      return 'started';
    } catch (e) {
      return e instanceof ConfigError ? e.message : String(e);
    }
  };
  t.match(await bad(citiesFile('p.json', [{ ...experiment, arms: [experiment.arms[0], { name: 'x', policy: 'psychic' }] }])), /cities\[0\]\.experiments\[0\]\.arms\[1\]\.policy "psychic" is not a dispatch policy/);
  t.match(await bad(citiesFile('s.json', [{ ...experiment, arms: [{ ...experiment.arms[0], share: 0.9 }, { ...experiment.arms[1], share: 0.2 }] }])), /experiments\[0\]\.arms\[\]\.share: the shares sum to 1\.1/);
  t.match(await bad(citiesFile('w.json', [{ ...experiment, windowMs: 100 }])), /experiments\[0\]\.windowMs=100: expected an integer from 1000/);
});
