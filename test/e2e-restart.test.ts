// A restart with the same data dir still answers track and finished jobs; SIGTERM-style stop closes with 1001.
import t from 'tap';
import path from 'node:path';
import { Client, http, onlineDriver, rebuild, removeDir, startServer } from './helpers/server.js';
import { LmdbState } from '../src/storage/lmdb/lmdb-state.js';
import type { JobDoc } from '../src/matching/job-repo.js';
import type { StoredTimer } from '../src/bus/timers.js';
import { DISPATCH_CHECK_TIMER } from '../src/matching/job-service.js';

/** The job's state once it is `want`, or the last state seen after `ms`. */
async function stateWhen(url: string, job: string, token: string, want: string, ms = 5000): Promise<string> {
  const end = Date.now() + ms;
  let state = '';
  while (Date.now() < end && state !== want) {
    state = (await http('GET', `${url}/v1/jobs/${job}`, token)).body.state;
    if (state !== want) await new Promise((r) => setTimeout(r, 100));
  }
  return state;
}

t.test('restart keeps history and finished jobs', async (t) => {
  const s1 = await startServer();
  const dir = s1.dataDir;
  t.teardown(() => removeDir(dir));
  const d = await onlineDriver(s1, 'rs-d', 43.73, 7.42);
  const t0 = Date.now();
  for (let i = 1; i <= 5; i++) d.send({ t: 'loc', lat: 43.73 + i * 0.0001, lng: 7.42, ts: t0 + i * 1000 });
  await d.request({ t: 'status', s: 'available' });
  rebuild(s1);
  const rt = await s1.token('rider', 'rs-r');
  const job = (await http('POST', `${s1.url}/v1/jobs`, rt, { pickup: { lat: 43.7305, lng: 7.42 } })).body.id;
  await d.waitFor((f) => f.t === 'offer' && f.job === job);
  await d.request({ t: 'accept', job });
  await d.request({ t: 'arrived', job });
  await d.request({ t: 'start', job });
  await d.request({ t: 'complete', job });
  const closing = d.waitClose();
  await s1.stop();
  t.equal(await closing, 1001, 'sockets closed with 1001 on shutdown');

  const s2 = await startServer({}, dir);
  t.teardown(() => s2.stop());
  const ops = await s2.token('ops', 'rs-o');
  const tr = await http('GET', `${s2.url}/v1/drivers/rs-d/track?from=${t0 - 60_000}&to=${t0 + 60_000}`, ops);
  t.equal(tr.status, 200);
  t.equal(tr.body.points.length, 6, 'every accepted fix survived the restart');
  const got = await http('GET', `${s2.url}/v1/jobs/${job}`, rt);
  t.equal(got.status, 200);
  t.equal(got.body.state, 'completed');
  t.equal(got.body.driver, 'rs-d');
  t.equal((await http('GET', `${s2.url}/v1/jobs/${job}`, await s2.token('rider', 'other'))).status, 404);
  const r = await Client.open(`${s2.wsUrl}/v1/rider/ws`, rt);
  t.equal((await r.request({ t: 'sub', job })).t, 'ack');
  t.equal((await r.waitFor((f) => f.t === 'job' && f.job === job)).state, 'completed');
  r.close();
  await s2.app.storage.flush(); // job events are written after the ack, asynchronously: wait for them
  const events = await s2.app.storage.jobEvents(job);
  t.same(events.map((e) => e.state), ['dispatching', 'accepted', 'arrived', 'in_progress', 'completed']);
});

t.test('restart resumes live jobs: the driver gets its job back and finishes it; an offer made before expires after', async (t) => {
  const env = { TAXIWAY_OFFER_TIMEOUT_MS: '1500' };
  const s1 = await startServer(env);
  const dir = s1.dataDir;
  t.teardown(() => removeDir(dir));
  const d1 = await onlineDriver(s1, 'lv-d1', 43.73, 7.42);
  rebuild(s1);
  const rt = await s1.token('rider', 'lv-r');
  const live = (await http('POST', `${s1.url}/v1/jobs`, rt, { pickup: { lat: 43.7301, lng: 7.42 } })).body.id as string;
  await d1.waitFor((f) => f.t === 'offer' && f.job === live);
  t.equal((await d1.request({ t: 'accept', job: live })).t, 'ack');
  t.equal((await d1.request({ t: 'arrived', job: live })).t, 'ack');
  const d2 = await onlineDriver(s1, 'lv-d2', 43.74, 7.43);
  rebuild(s1);
  const pending = (await http('POST', `${s1.url}/v1/jobs`, rt, { pickup: { lat: 43.7401, lng: 7.43 } })).body.id as string;
  await d2.waitFor((f) => f.t === 'offer' && f.job === pending);
  await s1.stop(); // d2 never answers its offer

  const s2 = await startServer(env, dir);
  t.teardown(() => s2.stop());
  const back = await Client.open(`${s2.wsUrl}/v1/driver/ws`, await s2.token('driver', 'lv-d1'));
  await back.waitFor((f) => f.t === 'hello');
  const job = await back.waitFor((f) => f.t === 'job' && f.job === live, 3000);
  t.equal(job.state, 'arrived', 'the driver gets its live job back, in the state it had');
  t.equal((await back.request({ t: 'status', s: 'available' })).code, 'conflict', 'still busy with it');
  t.equal((await back.request({ t: 'start', job: live })).t, 'ack');
  t.equal((await back.request({ t: 'complete', job: live })).t, 'ack');
  t.equal((await http('GET', `${s2.url}/v1/jobs/${live}`, rt)).body.state, 'completed');
  await s2.app.storage.flush(); // job events are written after the ack, asynchronously: wait for them
  const events = await s2.app.storage.jobEvents(live);
  t.same(events.map((e) => e.state), ['dispatching', 'accepted', 'arrived', 'in_progress', 'completed'], 'one history across the restart');

  t.equal(await stateWhen(s2.url, pending, rt, 'unfulfilled'), 'unfulfilled', 'the offer timer survived the restart: it expired and dispatch ended the job (no driver left)');
  back.close();
});

t.test('a job whose node died between its creation and its first offer is dispatched by the watchdog after the restart', async (t) => {
  const s1 = await startServer();
  const dir = s1.dataDir;
  t.teardown(() => removeDir(dir));
  await s1.stop();
  // What `create` leaves behind when the process dies right after it: the job document and its watchdog.
  const now = Date.now();
  const id = 'j_crashed_' + now;
  const state = LmdbState.open(path.join(dir, 'state'));
  state.table<JobDoc>('jobs').put(id, {
    rec: { id, state: 'dispatching', rider: 'wd-r', driver: null, pickup: { lat: 43.73, lng: 7.42 }, dropoff: null, product: 'standard', city: 'world', created_ts: now, updated_ts: now, times: { dispatching: now } },
    seq: 1, attempts: 0, offer: null, offerExpires: 0, tried: [], version: 1,
  });
  state.table<StoredTimer>('timers').put(`${DISPATCH_CHECK_TIMER}\u0000${id}`, { kind: DISPATCH_CHECK_TIMER, key: id, fireAt: now - 1, payload: { job: id } });
  await state.close();

  // Restored timers wait one offer timeout after start-up (drivers reconnect meanwhile): 1 s here.
  const s2 = await startServer({ TAXIWAY_OFFER_TIMEOUT_MS: '1000' }, dir);
  t.teardown(() => s2.stop());
  const rt = await s2.token('rider', 'wd-r');
  t.equal(await stateWhen(s2.url, id, rt, 'unfulfilled'), 'unfulfilled', 'dispatched again (no driver online now, so it ends instead of hanging in dispatching)');
});
