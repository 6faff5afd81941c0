// Limits on riders' job requests over real HTTP: per-rider and per-address rates (429 + Retry-After), the open-jobs cap (409).
import t from 'tap';
import { Client, fetchChecked, onlineDriver, rebuild, removeDir, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';

const MC = { lat: 43.7384, lng: 7.4246 }; // Monaco

interface Answer { status: number; retryAfter: string | null; body: any }

async function call(method: string, url: string, token: string, body?: unknown): Promise<Answer> {
  const res = await fetchChecked(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
}

const createJob = (s: TestServer, token: string): Promise<Answer> => call('POST', `${s.url}/v1/jobs`, token, { pickup: MC });

async function refusals(s: TestServer, reason: string): Promise<number> {
  const text = await (await fetchChecked(`${s.url}/metrics`)).text();
  const m = new RegExp(`^taxiway_job_requests_refused_total\\{reason="${reason}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

t.test('per rider: a burst, then 429 rate_limited with Retry-After; other riders unaffected', async (t) => {
  const s = await startServer({ TAXIWAY_JOB_RATE_PER_RIDER: '0.5', TAXIWAY_JOB_BURST_PER_RIDER: '3', TAXIWAY_MAX_OPEN_JOBS_PER_RIDER: '100' });
  t.teardown(async () => {
    await s.stop();
    removeDir(s.dataDir);
  });
  const a = await s.token('rider', 'rl-a');
  for (let i = 0; i < 3; i++) t.equal((await createJob(s, a)).status, 201, `burst request ${i + 1}`);
  const over = await createJob(s, a);
  t.equal(over.status, 429);
  t.equal(over.body.error.code, 'rate_limited');
  t.match(over.body.error.message, /this rider/);
  t.ok(Number(over.retryAfter) >= 1 && Number(over.retryAfter) <= 2, `Retry-After ${over.retryAfter} s (one token per 2 s)`);
  t.equal((await createJob(s, await s.token('rider', 'rl-b'))).status, 201, 'another rider still creates');
  // Cancelling draws on the same budget.
  const cancel = await call('POST', `${s.url}/v1/jobs/j_missing/cancel`, a);
  t.equal(cancel.status, 429, 'cancel refused too');
  t.equal(await refusals(s, 'rider_rate'), 2);
  await new Promise((r) => setTimeout(r, 2100));
  t.equal((await createJob(s, a)).status, 201, 'after Retry-After a request goes through');
});

t.test('per client address: many riders from one address share its budget', async (t) => {
  const s = await startServer({ TAXIWAY_JOB_RATE_PER_RIDER: '0', TAXIWAY_JOB_RATE_PER_IP: '0.2', TAXIWAY_JOB_BURST_PER_IP: '4' });
  t.teardown(async () => {
    await s.stop();
    removeDir(s.dataDir);
  });
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await createJob(s, await s.token('rider', `ip-r${i}`))).status);
  t.same(statuses, [201, 201, 201, 201, 429, 429]);
  const over = await createJob(s, await s.token('rider', 'ip-r9'));
  t.match(over.body.error.message, /client address/);
  t.ok(Number(over.retryAfter) >= 1 && Number(over.retryAfter) <= 5);
  t.equal(await refusals(s, 'ip_rate'), 3);
});

t.test('open-jobs cap: 409 conflict while the rider holds the most live jobs; room again once one ends', async (t) => {
  const s = await startServer({ TAXIWAY_MAX_OPEN_JOBS_PER_RIDER: '2', TAXIWAY_OFFER_TIMEOUT_MS: '60000' });
  const drivers: Client[] = [];
  t.teardown(async () => {
    for (const d of drivers) d.close();
    await s.stop();
    removeDir(s.dataDir);
  });
  // Silent drivers keep each job `dispatching` (offered, unanswered) so it stays open.
  for (let i = 0; i < 3; i++) drivers.push(await onlineDriver(s, `cap-d${i}`, MC.lat + 0.001 * (i + 1), MC.lng));
  rebuild(s);
  const r = await s.token('rider', 'cap-r');
  const first = await createJob(s, r);
  const second = await createJob(s, r);
  t.equal(first.status, 201);
  t.equal(second.status, 201);
  t.equal(second.body.state, 'dispatching');
  const third = await createJob(s, r);
  t.equal(third.status, 409);
  t.equal(third.body.error.code, 'conflict');
  t.match(third.body.error.message, /TAXIWAY_MAX_OPEN_JOBS_PER_RIDER/);
  t.equal(third.retryAfter, null, 'no Retry-After: waiting alone does not help');
  t.equal((await createJob(s, await s.token('rider', 'cap-other'))).status, 201, 'another rider is not capped');
  t.equal((await call('POST', `${s.url}/v1/jobs/${first.body.id}/cancel`, r)).status, 200);
  t.equal((await createJob(s, r)).status, 201, 'a cancelled job frees a place');
  t.equal(await refusals(s, 'open_jobs'), 1);
});
