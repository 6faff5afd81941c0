// End to end over real sockets: a whole trip, decline/accept, expiry, unfulfilled, cancellations.
import t from 'tap';
import { Client, http, onlineDriver, rebuild, removeDir, sleep, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';

const MC = { lat: 43.7384, lng: 7.4246 }; // Monaco

let s: TestServer;
t.before(async () => {
  s = await startServer({ TAXIWAY_OFFER_TIMEOUT_MS: '600' });
});
t.teardown(async () => {
  await s.stop();
  removeDir(s.dataDir);
});

async function rider(id: string): Promise<string> {
  return s.token('rider', id);
}

t.test('a whole trip: offer, accept, arrived, start, complete; rider sees every change and pos', async (t) => {
  const d = await onlineDriver(s, 'trip-d1', MC.lat + 0.001, MC.lng);
  rebuild(s);
  const rt = await rider('trip-r1');
  const created = await http('POST', `${s.url}/v1/jobs`, rt, { pickup: MC, dropoff: { lat: 43.745, lng: 7.43 } });
  t.equal(created.status, 201);
  t.equal(created.body.state, 'dispatching');
  t.equal(created.body.rider, 'trip-r1');
  const job = created.body.id as string;

  const r = await Client.open(`${s.wsUrl}/v1/rider/ws`, rt, true);
  const subAck = await r.request({ t: 'sub', job });
  t.equal(subAck.t, 'ack');
  const snap = await r.waitFor((f) => f.t === 'job' && f.job === job);
  t.equal(snap.state, 'dispatching');

  const offer = await d.waitFor((f) => f.t === 'offer' && f.job === job);
  t.same(offer.pickup, MC);
  t.ok(typeof offer.eta_s === 'number' && (offer.eta_s as number) >= 0);
  t.ok((offer.expires_ts as number) > Date.now());

  t.equal((await d.request({ t: 'accept', job })).t, 'ack');
  const acc = await r.waitFor((f) => f.t === 'job' && f.state === 'accepted');
  t.equal((acc.driver as any).id, 'trip-d1');
  t.ok(typeof acc.ts === 'number');

  // Driver moves: the rider gets pos frames (at most one per second).
  // Fix times step 5 s ahead so 55 m stays far below 250 km/h.
  const t1 = Date.now() + 5000;
  d.send({ t: 'loc', lat: MC.lat + 0.0005, lng: MC.lng, ts: t1 });
  const pos = await r.waitFor((f) => f.t === 'pos' && f.job === job, 3000);
  t.ok(Math.abs((pos.lat as number) - (MC.lat + 0.0005)) < 1e-9 || Math.abs((pos.lat as number) - (MC.lat + 0.001)) < 1e-9);
  const before = r.frames.filter((f) => f.t === 'pos').length;
  for (let i = 1; i <= 5; i++) d.send({ t: 'loc', lat: MC.lat + 0.0005 - i * 0.00001, lng: MC.lng, ts: t1 + i * 1000 });
  await sleep(300);
  t.ok(r.frames.filter((f) => f.t === 'pos').length - before <= 1, 'pos throttled to once a second');

  t.equal((await d.request({ t: 'arrived', job })).t, 'ack');
  await r.waitFor((f) => f.t === 'job' && f.state === 'arrived');
  t.equal((await d.request({ t: 'start', job })).t, 'ack');
  await r.waitFor((f) => f.t === 'job' && f.state === 'in_progress');
  t.equal((await d.request({ t: 'complete', job })).t, 'ack');
  await r.waitFor((f) => f.t === 'job' && f.state === 'completed');

  const got = await http('GET', `${s.url}/v1/jobs/${job}`, rt);
  t.equal(got.status, 200);
  t.equal(got.body.state, 'completed');
  t.equal(got.body.driver, 'trip-d1');
  for (const st of ['dispatching', 'accepted', 'arrived', 'in_progress', 'completed']) t.type(got.body.times[st], 'number', `${st} timestamped`);
  const asDriver = await http('GET', `${s.url}/v1/jobs/${job}`, await s.token('driver', 'trip-d1'));
  t.equal(asDriver.status, 200, 'the job is visible to its driver');
  // After complete the driver is available again: a new job reaches it.
  const again = await http('POST', `${s.url}/v1/jobs`, rt, { pickup: MC });
  await d.waitFor((f) => f.t === 'offer' && f.job === again.body.id);
  await d.request({ t: 'decline', job: again.body.id });
  d.close();
  r.close();
});

t.test('decline moves on to the next driver; never offered twice', async (t) => {
  const near = await onlineDriver(s, 'dec-near', 43.7300, 7.4200);
  const far = await onlineDriver(s, 'dec-far', 43.7300, 7.4300);
  rebuild(s);
  const rt = await rider('dec-r');
  const job = (await http('POST', `${s.url}/v1/jobs`, rt, { pickup: { lat: 43.7300, lng: 7.4195 } })).body.id;
  await near.waitFor((f) => f.t === 'offer' && f.job === job);
  t.equal(far.frames.filter((f) => f.t === 'offer').length, 0, 'one driver offered at a time');
  await near.request({ t: 'decline', job });
  await far.waitFor((f) => f.t === 'offer' && f.job === job);
  t.equal((await far.request({ t: 'accept', job })).t, 'ack');
  const late = await near.request({ t: 'accept', job });
  t.equal(late.t, 'err');
  t.equal(late.code, 'conflict');
  t.equal(near.frames.filter((f) => f.t === 'offer' && f.job === job).length, 1);
  const got = await http('GET', `${s.url}/v1/jobs/${job}`, rt);
  t.equal(got.body.state, 'accepted');
  t.equal(got.body.driver, 'dec-far');
  // Rider cancels the accepted job: the driver is told, and it ends cancelled.
  const c = await http('POST', `${s.url}/v1/jobs/${job}/cancel`, rt);
  t.equal(c.status, 200);
  t.equal(c.body.state, 'cancelled');
  await far.waitFor((f) => f.t === 'job' && f.job === job && f.state === 'cancelled');
  const again = await http('POST', `${s.url}/v1/jobs/${job}/cancel`, rt);
  t.equal(again.status, 409);
  t.equal(again.body.error.code, 'conflict');
  near.close();
  far.close();
});

t.test('offer timeout: the offer expires and dispatch moves on; then unfulfilled', async (t) => {
  const a = await onlineDriver(s, 'exp-a', 43.7200, 7.4100);
  const b = await onlineDriver(s, 'exp-b', 43.7200, 7.4110);
  rebuild(s);
  const rt = await rider('exp-r');
  const job = (await http('POST', `${s.url}/v1/jobs`, rt, { pickup: { lat: 43.7200, lng: 7.4099 } })).body.id;
  const r = await Client.open(`${s.wsUrl}/v1/rider/ws`, rt);
  await r.request({ t: 'sub', job });
  await a.waitFor((f) => f.t === 'offer' && f.job === job);
  await a.waitFor((f) => f.t === 'offer_revoked' && f.job === job, 3000);
  await b.waitFor((f) => f.t === 'offer' && f.job === job, 3000);
  await r.waitFor((f) => f.t === 'job' && f.state === 'unfulfilled', 3000);
  const got = await http('GET', `${s.url}/v1/jobs/${job}`, rt);
  t.equal(got.body.state, 'unfulfilled');
  a.close();
  b.close();
  r.close();
});

t.test('no candidates: unfulfilled at once; pickup outside the service never hangs', async (t) => {
  const rt = await rider('none-r');
  const res = await http('POST', `${s.url}/v1/jobs`, rt, { pickup: { lat: -33.9, lng: 18.4 } });
  t.equal(res.status, 201);
  const got = await http('GET', `${s.url}/v1/jobs/${res.body.id}`, rt);
  t.equal(got.body.state, 'unfulfilled');
});

t.test('a driver that disconnects holding an offer has declined it', async (t) => {
  const a = await onlineDriver(s, 'disc-a', 43.7100, 7.4000);
  const b = await onlineDriver(s, 'disc-b', 43.7100, 7.4010);
  rebuild(s);
  const rt = await rider('disc-r');
  const job = (await http('POST', `${s.url}/v1/jobs`, rt, { pickup: { lat: 43.7100, lng: 7.3999 } })).body.id;
  await a.waitFor((f) => f.t === 'offer' && f.job === job);
  a.close();
  await b.waitFor((f) => f.t === 'offer' && f.job === job, 3000);
  await b.request({ t: 'accept', job });
  b.close();
  // Reconnecting with an active job: the server sends the job's current state.
  const b2 = await Client.open(`${s.wsUrl}/v1/driver/ws`, await s.token('driver', 'disc-b'));
  await b2.waitFor((f) => f.t === 'hello');
  const j = await b2.waitFor((f) => f.t === 'job' && f.job === job);
  t.equal(j.state, 'accepted');
  // Driver cancel: back to dispatching without this driver, rider told.
  const r = await Client.open(`${s.wsUrl}/v1/rider/ws`, rt);
  await r.request({ t: 'sub', job });
  t.equal((await b2.request({ t: 'cancel', job, reason: 'car trouble' })).t, 'ack');
  const back = await r.waitFor((f) => f.t === 'job' && f.state === 'dispatching', 3000, 1);
  t.notOk(back.driver, 'no driver while dispatching again');
  await r.waitFor((f) => f.t === 'job' && f.state === 'unfulfilled', 3000);
  t.equal(b2.frames.filter((f) => f.t === 'offer' && f.job === job).length, 0, 'the cancelling driver is excluded');
  b2.close();
  r.close();
});

t.test('a newer socket for the same driver replaces the old one (4001) and its offer is declined', async (t) => {
  const a = await onlineDriver(s, 'rep-a', 43.6900, 7.3800);
  const b = await onlineDriver(s, 'rep-b', 43.6900, 7.3810);
  rebuild(s);
  const rt = await rider('rep-r');
  const job = (await http('POST', `${s.url}/v1/jobs`, rt, { pickup: { lat: 43.6900, lng: 7.3799 } })).body.id;
  await a.waitFor((f) => f.t === 'offer' && f.job === job);
  const a2 = await Client.open(`${s.wsUrl}/v1/driver/ws`, await s.token('driver', 'rep-a'));
  t.equal(await a.waitClose(), 4001);
  await b.waitFor((f) => f.t === 'offer' && f.job === job, 2000);
  t.equal(a2.frames.filter((f) => f.t === 'offer').length, 0);
  a2.close();
  b.close();
});

t.test('no driver ever holds two offers or two active jobs', async (t) => {
  const d = await onlineDriver(s, 'two-d', 43.7000, 7.3900);
  rebuild(s);
  const rt = await rider('two-r');
  const j1 = (await http('POST', `${s.url}/v1/jobs`, rt, { pickup: { lat: 43.7000, lng: 7.3901 } })).body.id;
  const j2 = (await http('POST', `${s.url}/v1/jobs`, rt, { pickup: { lat: 43.7000, lng: 7.3902 } })).body.id;
  await d.waitFor((f) => f.t === 'offer' && f.job === j1);
  t.equal(d.frames.filter((f) => f.t === 'offer').length, 1);
  t.equal((await http('GET', `${s.url}/v1/jobs/${j2}`, rt)).body.state, 'unfulfilled');
  await d.request({ t: 'accept', job: j1 });
  const j3 = (await http('POST', `${s.url}/v1/jobs`, rt, { pickup: { lat: 43.7000, lng: 7.3901 } })).body.id;
  t.equal((await http('GET', `${s.url}/v1/jobs/${j3}`, rt)).body.state, 'unfulfilled', 'a busy driver is not a candidate');
  const st = await d.request({ t: 'status', s: 'available' });
  t.equal(st.code, 'conflict', 'cannot go available with an active job');
  d.close();
});
