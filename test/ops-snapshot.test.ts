// The ops live-job snapshot over real sockets: jobs created before the sub arrive in one `jobs` frame after the ack, per city, capped.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { Client, http, removeDir } from './helpers/server.js';
import type { Frame } from './helpers/server.js';
import { startOpsWorld } from './helpers/ops-world.js';

async function opsClient(w: { s: { wsUrl: string; token(r: 'ops', s: string): Promise<string> } }): Promise<Client> {
  return Client.open(`${w.s.wsUrl}/v1/ops/ws`, await w.s.token('ops', 'snap-ops'));
}

t.test('sub: ack, then a jobs frame with every live job created before it; re-sub to a city; unsub sends none', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-ops-snap-'));
  const w = await startOpsWorld(dir, { driverCount: 3, jobCount: 3, acceptFirst: 1 });
  t.teardown(async () => {
    await w.stop();
    removeDir(dir);
  });
  // A final job must not appear: cancel the newest (it is still dispatching).
  const cancelled = w.jobs[2]!;
  t.equal((await http('POST', `${w.s.url}/v1/jobs/${cancelled}/cancel`, await w.s.token('rider', 'rdr-2'))).status, 200);

  const ops = await opsClient(w);
  const mark = ops.frames.length;
  ops.send({ t: 'sub', id: 7 });
  const snap = await ops.waitFor((f) => f.t === 'jobs', 5000, mark);
  const ackAt = ops.frames.findIndex((f, i) => i >= mark && f.t === 'ack' && f.id === 7);
  t.ok(ackAt >= 0 && ackAt < ops.frames.indexOf(snap), 'the ack comes before the snapshot');
  t.equal(snap.more, false);
  t.equal(snap.city, undefined, 'no city echoed for an all-cities sub');
  t.type(snap.ts, 'number');
  const jobs = snap.jobs as Frame[];
  t.same(jobs.map((j) => j.job), [w.jobs[1], w.jobs[0]], 'the live jobs, newest created first; the cancelled one left out');
  const accepted = jobs.find((j) => j.job === w.jobs[0])!;
  t.equal(accepted.state, 'accepted');
  t.match(accepted, { rider: 'rdr-0', product: 'taxi', city: 'monaco', pickup: { lat: Number, lng: Number }, dropoff: { lat: Number, lng: Number } });
  t.match(accepted.driver, { id: /^drv-/, lat: Number, lng: Number }, 'the assigned driver with its position');
  t.type(accepted.created_ts, 'number');
  t.ok((accepted.ts as number) >= (accepted.created_ts as number));
  const waiting = jobs.find((j) => j.job === w.jobs[1])!;
  t.equal(waiting.state, 'dispatching');
  t.notOk('driver' in waiting, 'no driver while dispatching');
  t.notOk('t' in waiting, 'entries are job frames without t');

  // job frames carry the city too
  const m2 = ops.frames.length;
  t.equal((await http('POST', `${w.s.url}/v1/jobs/${w.jobs[1]}/cancel`, await w.s.token('rider', 'rdr-1'))).status, 200);
  const jf = await ops.waitFor((f) => f.t === 'job' && f.job === w.jobs[1], 5000, m2);
  t.equal(jf.city, 'monaco', 'job frames carry city');

  // Re-target to porto: an empty snapshot, with the city echoed; to monaco: the one live job.
  const m3 = ops.frames.length;
  t.equal((await ops.request({ t: 'sub', city: 'porto' })).t, 'ack');
  const porto = await ops.waitFor((f) => f.t === 'jobs', 5000, m3);
  t.same({ city: porto.city, jobs: porto.jobs, more: porto.more }, { city: 'porto', jobs: [], more: false });
  const m4 = ops.frames.length;
  t.equal((await ops.request({ t: 'sub', city: 'monaco' })).t, 'ack');
  const monaco = await ops.waitFor((f) => f.t === 'jobs', 5000, m4);
  t.same((monaco.jobs as Frame[]).map((j) => j.job), [w.jobs[0]]);

  const unknown = await ops.request({ t: 'sub', city: 'atlantis' });
  t.match(unknown, { t: 'err', code: 'not_found' });
  const m5 = ops.frames.length;
  t.equal((await ops.request({ t: 'unsub' })).t, 'ack');
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(ops.frames.slice(m5).some((f) => f.t === 'jobs'), 'unsub sends no snapshot');

  // Two sockets subscribing at the same moment: both get the snapshot (one read shared by both).
  const [a, b] = [await opsClient(w), await opsClient(w)];
  a.send({ t: 'sub' });
  b.send({ t: 'sub' });
  const [sa, sb] = await Promise.all([a.waitFor((f) => f.t === 'jobs'), b.waitFor((f) => f.t === 'jobs')]);
  t.same(sa.jobs, sb.jobs);
  for (const c of [ops, a, b]) c.close();

  const metrics = (await http('GET', `${w.s.url}/metrics`)).body as string;
  t.match(metrics, /taxiway_ops_snapshots_total\{result="complete"\} [1-9]/, 'snapshots counted');
  t.match(metrics, /taxiway_ops_snapshot_jobs_total [1-9]/, 'snapshot jobs counted');
});

t.test('the snapshot is capped by TAXIWAY_OPS_SNAPSHOT_MAX_JOBS and then says more: true', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-ops-cap-'));
  const w = await startOpsWorld(dir, { driverCount: 3, jobCount: 3, env: { TAXIWAY_OPS_SNAPSHOT_MAX_JOBS: '2' } });
  t.teardown(async () => {
    await w.stop();
    removeDir(dir);
  });
  const ops = await opsClient(w);
  ops.send({ t: 'sub' });
  const snap = await ops.waitFor((f) => f.t === 'jobs');
  t.equal(snap.more, true);
  t.same((snap.jobs as Frame[]).map((j) => j.job), [w.jobs[2], w.jobs[1]], 'the newest two');
  ops.close();
  const metrics = (await http('GET', `${w.s.url}/metrics`)).body as string;
  t.match(metrics, /taxiway_ops_snapshots_total\{result="truncated"\} 1/);
});
