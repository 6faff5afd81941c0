// End to end over real sockets (issue 18, soak): following a job ends with its final frame, so a rider socket that follows job after job holds nothing per finished job.
import t from 'tap';
import { MAX_FOLLOWED } from '../src/ws/rider-socket.js';
import { Client, NO_JOB_LIMITS, http, onlineDriver, rebuild, removeDir, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';

const MC = { lat: 43.7384, lng: 7.4246 }; // Monaco

let s: TestServer;
t.before(async () => {
  s = await startServer({ ...NO_JOB_LIMITS });
});
t.teardown(async () => {
  await s.stop();
  removeDir(s.dataDir);
});

async function followedGauge(): Promise<number> {
  return (await s.app.metrics.followedJobs.get()).values[0]?.value ?? 0;
}

t.test('more finished jobs than MAX_FOLLOWED on one rider socket: each followed to its end, nothing left after', async (t) => {
  const d = await onlineDriver(s, 'follow-d1', MC.lat + 0.001, MC.lng);
  rebuild(s);
  const rt = await s.token('rider', 'follow-r1');
  const r = await Client.open(`${s.wsUrl}/v1/rider/ws`, rt, true);
  const base = s.app.hub.counts().followedJobs;
  t.equal(base, 0);
  const n = MAX_FOLLOWED + 5;
  for (let i = 0; i < n; i++) {
    const created = await http('POST', `${s.url}/v1/jobs`, rt, { pickup: MC, dropoff: { lat: 43.745, lng: 7.43 } });
    t.equal(created.status, 201);
    const job = created.body.id as string;
    const mark = r.frames.length;
    const ack = await r.request({ t: 'sub', job });
    if (ack.t !== 'ack') t.fail(`sub ${i} refused: ${JSON.stringify(ack)}`);
    await d.waitFor((f) => f.t === 'offer' && f.job === job, 10_000);
    t.equal((await d.request({ t: 'accept', job })).t, 'ack');
    await r.waitFor((f) => f.t === 'job' && f.job === job && f.state === 'accepted', 10_000, mark);
    t.equal(s.app.hub.counts().followedJobs, 1, `job ${i} followed while live`);
    // Half end by the driver completing, half by the rider cancelling: every final state ends following.
    if (i % 2 === 0) {
      for (const step of ['arrived', 'start', 'complete']) t.equal((await d.request({ t: step, job })).t, 'ack');
    } else {
      t.equal((await http('POST', `${s.url}/v1/jobs/${job}/cancel`, rt)).status, 200);
    }
    const fin = await r.waitFor((f) => f.t === 'job' && f.job === job && (f.state === 'completed' || f.state === 'cancelled'), 10_000, mark);
    t.ok(fin, `job ${i} final frame reached the rider`);
    // The final frame and the end of following happen in one step on the node: nothing is held now.
    t.equal(s.app.hub.counts().followedJobs, base, `job ${i} no longer followed after its final frame`);
  }
  t.equal(await followedGauge(), 0, 'taxiway_ws_followed_jobs back to 0');

  // A finished job can still be subscribed: ack and its final snapshot, and it is not held either.
  const last = (await http('GET', `${s.url}/v1/jobs?limit=1`, await s.token('ops', 'follow-ops'))).body.jobs?.[0]?.id as string | undefined;
  if (last) {
    const mark = r.frames.length;
    t.equal((await r.request({ t: 'sub', job: last })).t, 'ack');
    const snap = await r.waitFor((f) => f.t === 'job' && f.job === last, 5000, mark);
    t.ok(snap.state === 'completed' || snap.state === 'cancelled', 'final snapshot of a finished job');
    t.equal(s.app.hub.counts().followedJobs, base, 'a sub of a finished job holds nothing');
  }
  // unsub of a job no longer followed is still acked.
  t.equal((await r.request({ t: 'unsub', job: 'no-such-job' })).t, 'ack');
  d.close();
  r.close();
});
