// End to end over real sockets: a city's dispatch policy and experiments changed through the admin API apply live: searching jobs are handed over, none stranded, the batch lease given back, experiments from the next window.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import type { ExperimentDef } from '../src/config/experiments.js';
import { leaseName } from '../src/matching/batch-loop.js';
import { SwitchbackSchedule } from '../src/matching/switchback.js';
import { NO_JOB_LIMITS, http, onlineDriver, rebuild, removeDir, sleep, startServer } from './helpers/server.js';
import type { Client, TestServer } from './helpers/server.js';

const MC = { lat: 43.7384, lng: 7.4246 }; // Monaco
const square = { type: 'Polygon', coordinates: [[[7.40, 43.72], [7.44, 43.72], [7.44, 43.76], [7.40, 43.76], [7.40, 43.72]]] };
const monaco = { timezone: 'Europe/Monaco', boundary: square };
const greedy = { ...monaco, dispatch: { searchWindowMs: 60_000 } };
const batched = { ...monaco, dispatch: { policy: 'batched', batchWindowMs: 300, searchWindowMs: 60_000 } };

let s: TestServer;
let dir: string;
let ops: string;
let rider: string;
t.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-live-'));
  const cities = path.join(dir, 'cities.json');
  fs.writeFileSync(cities, JSON.stringify({ cities: [{ name: 'monaco', ...greedy }, { name: 'rest', timezone: 'UTC', boundary: null }] }));
  s = await startServer({ TAXIWAY_CITIES: cities, ...NO_JOB_LIMITS });
  ops = await s.token('ops', 'live-ops');
  rider = await s.token('rider', 'live-r');
});
t.teardown(async () => {
  await s.stop();
  removeDir(s.dataDir);
  fs.rmSync(dir, { recursive: true, force: true });
});

const batchOffers = async (): Promise<number> => (await s.app.metrics.batchJobs.get()).values.find((v) => v.labels.outcome === 'offered')?.value ?? 0;
const policyOnBoard = (id: string): string | undefined => s.app.jobs.dispatcher.board.get(id)?.policy;

async function newJobs(n: number, t: Test): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const j = await http('POST', `${s.url}/v1/jobs`, rider, { pickup: { lat: MC.lat + i * 0.0005, lng: MC.lng } });
    t.equal(j.body.state, 'dispatching', 'nobody free: the job searches');
    ids.push(j.body.id);
  }
  return ids;
}

/** Each of `drivers` gets one offer of `jobs` (all different) and accepts it; returns the jobs offered. */
async function offeredAndAccepted(drivers: Client[], jobs: string[], t: Test): Promise<Set<string>> {
  const got = new Set<string>();
  for (const d of drivers) {
    const o = await d.waitFor((f) => f.t === 'offer' && jobs.includes(f.job as string), 5000);
    got.add(o.job as string);
    t.equal((await d.request({ t: 'accept', job: o.job })).t, 'ack');
  }
  return got;
}

t.test('greedy → batched → greedy while jobs search: each is handed to the new policy and offered; the lease is given back', async (t) => {
  // 1. Three jobs search (greedy) with nobody online.
  const first = await newJobs(3, t);
  t.same(first.map(policyOnBoard), ['greedy', 'greedy', 'greedy']);

  // 2. The city switches to batched: the searching jobs are now batched ones, and the next batches offer them.
  const before = await batchOffers();
  t.equal((await http('PUT', `${s.url}/v1/admin/cities/monaco`, ops, batched)).status, 200);
  t.same(first.map(policyOnBoard), ['batched', 'batched', 'batched'], 'handed to the batched policy at once');
  const d1 = [await onlineDriver(s, 'live-d1', MC.lat + 0.001, MC.lng), await onlineDriver(s, 'live-d2', MC.lat - 0.001, MC.lng), await onlineDriver(s, 'live-d3', MC.lat, MC.lng + 0.001)];
  rebuild(s);
  t.same(await offeredAndAccepted(d1, first, t), new Set(first), 'every job offered, one per driver');
  t.equal(await batchOffers() - before, 3, 'by batches');
  t.ok(s.app.jobs.dispatcher.batches.holds('monaco'), 'this node holds the city\'s batch lease');

  // 3. Two more jobs wait for a batch (every driver is busy now); the city switches back to greedy.
  const second = await newJobs(2, t);
  await sleep(400); // a batch finds nobody for them: they stay searching
  t.same(second.map(policyOnBoard), ['batched', 'batched']);
  t.equal((await http('PUT', `${s.url}/v1/admin/cities/monaco`, ops, greedy)).status, 200);
  t.same(second.map(policyOnBoard), ['greedy', 'greedy'], 'handed back to greedy');
  await sleep(100);
  t.notOk(s.app.jobs.dispatcher.batches.holds('monaco'), 'the batch loop ended');
  t.ok(await s.app.shared.lease.acquire(leaseName('monaco'), 'someone-else', 1000), 'the lease was given back (another holder takes it at once)');
  await s.app.shared.lease.release(leaseName('monaco'), 'someone-else');

  // 4. New drivers come online: greedy wakes the waiting jobs (no batch runs any more).
  const mid = await batchOffers();
  const d2 = [await onlineDriver(s, 'live-d4', MC.lat + 0.002, MC.lng), await onlineDriver(s, 'live-d5', MC.lat - 0.002, MC.lng)];
  rebuild(s);
  for (const d of d2) await d.request({ t: 'loc', lat: MC.lat + 0.0021, lng: MC.lng, ts: Date.now() }); // a fix: the wake-up
  t.same(await offeredAndAccepted(d2, second, t), new Set(second), 'both offered');
  t.equal(await batchOffers(), mid, 'by greedy, not by a batch');
  for (const id of [...first, ...second]) t.equal((await http('GET', `${s.url}/v1/jobs/${id}`, rider)).body.state, 'accepted', `${id} accepted: none stranded`);
  for (const d of [...d1, ...d2]) d.close();
});

t.test('an unknown policy name through the admin API is refused, naming the field', async (t) => {
  const r = await http('PUT', `${s.url}/v1/admin/cities/monaco`, ops, { ...monaco, dispatch: { policy: 'fastest' } });
  t.equal(r.status, 400);
  t.match(r.body.error.message, /city\.dispatch\.policy "fastest" is not a dispatch policy \(greedy, batched\)/);
  const e = await http('PUT', `${s.url}/v1/admin/cities/monaco`, ops, {
    ...greedy, experiments: [{ name: 'x', windowMs: 1000, seed: 1, arms: [{ name: 'a', policy: 'greedy' }, { name: 'b', policy: 'random' }] }],
  });
  t.equal(e.status, 400);
  t.match(e.body.error.message, /city\.experiments\[0\]\.arms\[1\]\.policy "random" is not a dispatch policy/);
});

t.test('an experiments change takes effect on the next window (and a removal after the current one)', async (t) => {
  const experiment: ExperimentDef = { name: 'live', windowMs: 2000, seed: 7, arms: [{ name: 'a', policy: 'greedy' }, { name: 'b', policy: 'greedy', params: { radiusM: 5000 } }] };
  const schedule = new SwitchbackSchedule('monaco', experiment);
  /** Sleep until a window has just begun (at least 1.5 s of it left); returns its index. */
  const freshWindow = async (): Promise<number> => {
    const w = schedule.windowOf(Date.now());
    if (schedule.windowStart(w + 1) - Date.now() > 1500) return w;
    await sleep(schedule.windowStart(w + 1) - Date.now() + 30);
    return schedule.windowOf(Date.now());
  };
  const armOf = async (): Promise<string | undefined> => (await http('POST', `${s.url}/v1/jobs`, rider, { pickup: MC })).body.arm;
  const armName = (w: number): string => `live/${experiment.arms[schedule.armOfWindow(w)]!.name}`;

  const w = await freshWindow();
  t.equal((await http('PUT', `${s.url}/v1/admin/cities/monaco`, ops, { ...greedy, experiments: [experiment] })).status, 200);
  t.equal(await armOf(), undefined, 'the window running at the change keeps the old configuration');
  await sleep(schedule.windowStart(w + 1) - Date.now() + 30);
  t.equal(await armOf(), armName(w + 1), 'from the next window: the experiment\'s arm');
  const report = await http('GET', `${s.url}/v1/experiments`, ops);
  t.ok(report.body.experiments.some((e: { city: string; name: string }) => e.city === 'monaco' && e.name === 'live'), 'reported');

  const w2 = await freshWindow();
  t.equal((await http('PUT', `${s.url}/v1/admin/cities/monaco`, ops, greedy)).status, 200);
  t.equal(await armOf(), armName(w2), 'removed: the current window still runs its arm');
  await sleep(schedule.windowStart(w2 + 1) - Date.now() + 30);
  t.equal(await armOf(), undefined, 'and from the next window no arm');
});
