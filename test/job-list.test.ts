// GET /v1/jobs for ops over real HTTP (paged, filtered), and a restart that never reloads every finished job.
import t from 'tap';
import { fetchChecked, http, removeDir, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { MemoryJobRepo } from '../src/matching/memory-job-repo.js';

const MC = { lat: 43.7384, lng: 7.4246 }; // Monaco
const NO_LIMITS = { TAXIWAY_JOB_RATE_PER_RIDER: '0', TAXIWAY_JOB_RATE_PER_IP: '0' };

/** Jobs created with no driver online: each ends `unfulfilled` (final) at once. */
async function finishedJobs(s: TestServer, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await http('POST', `${s.url}/v1/jobs`, await s.token('rider', `lst-r${i}`), { pickup: MC });
    if (r.status !== 201) throw new Error(`create ${r.status}`);
    ids.push(r.body.id);
  }
  return ids;
}

function heldJobs(s: TestServer): number {
  const repo = s.app.shared.repo;
  if (!(repo instanceof MemoryJobRepo)) throw new Error('embedded mode expected');
  return repo.heldCount;
}

t.test('GET /v1/jobs: ops only, newest first, paged by cursor, filtered by state and city', async (t) => {
  const s = await startServer(NO_LIMITS);
  t.teardown(async () => {
    await s.stop();
    removeDir(s.dataDir);
  });
  const ids = await finishedJobs(s, 5);
  const ops = await s.token('ops', 'lst-ops');
  const rider = await s.token('rider', 'lst-r0');
  t.equal((await http('GET', `${s.url}/v1/jobs`, rider)).status, 403, 'riders may not list');
  t.equal((await http('GET', `${s.url}/v1/jobs`, await s.token('driver', 'lst-d'))).status, 403, 'drivers may not list');
  t.equal((await http('GET', `${s.url}/v1/jobs`)).status, 401);

  const all = await http('GET', `${s.url}/v1/jobs`, ops);
  t.equal(all.status, 200);
  t.same(all.body.jobs.map((j: any) => j.id), [...ids].reverse(), 'newest first');
  t.equal(all.body.next, null);
  t.equal(all.body.jobs[0].state, 'unfulfilled');

  const seen: string[] = [];
  let cursor = '';
  for (let i = 0; i < 5; i++) {
    const p = await http('GET', `${s.url}/v1/jobs?limit=2${cursor ? `&cursor=${cursor}` : ''}`, ops);
    t.ok(p.body.jobs.length <= 2);
    seen.push(...p.body.jobs.map((j: any) => j.id));
    if (!p.body.next) break;
    cursor = p.body.next;
  }
  t.same(seen, [...ids].reverse(), 'pages cover every job once');

  t.equal((await http('GET', `${s.url}/v1/jobs?state=unfulfilled&city=world`, ops)).body.jobs.length, 5);
  t.same((await http('GET', `${s.url}/v1/jobs?state=live`, ops)).body, { jobs: [], next: null }, 'none live');
  t.same((await http('GET', `${s.url}/v1/jobs?city=elsewhere`, ops)).body.jobs, []);
  for (const bad of ['state=nope', 'limit=0', 'limit=501', 'limit=1.5', 'cursor=abc']) {
    const r = await http('GET', `${s.url}/v1/jobs?${bad}`, ops);
    t.equal(r.status, 400, bad);
    t.equal(r.body.error.code, 'bad_request');
  }
  const head = await fetchChecked(`${s.url}/v1/jobs`, { method: 'HEAD', headers: { authorization: `Bearer ${ops}` } });
  t.equal(head.status, 200, 'HEAD twin');
});

t.test('restart: only live jobs and a bounded number of finished ones are reloaded; old ones still answer from storage', async (t) => {
  // An older server kept every finished job (a day): here 40 of them, all written through to the data dir.
  const first = await startServer({ ...NO_LIMITS, TAXIWAY_FINISHED_JOBS_KEPT: '100000' });
  const ids = await finishedJobs(first, 40);
  t.equal(heldJobs(first), 40);
  await first.stop();

  const bounded = { ...NO_LIMITS, TAXIWAY_FINISHED_JOBS_KEPT: '5' };
  const second = await startServer(bounded, first.dataDir);
  t.ok(heldJobs(second) <= 5, `held after restart: ${heldJobs(second)} (at most 5)`);
  const ops = await second.token('ops', 'lst-ops');
  const old = await http('GET', `${second.url}/v1/jobs/${ids[0]}`, ops);
  t.equal(old.status, 200, 'the oldest finished job answers from storage');
  t.equal(old.body.state, 'unfulfilled');
  const own = await http('GET', `${second.url}/v1/jobs/${ids[0]}`, await second.token('rider', 'lst-r0'));
  t.equal(own.body.id, ids[0], 'and to its rider');
  await finishedJobs(second, 10);
  t.ok(heldJobs(second) <= 5, 'new finished jobs stay within the bound');
  await second.stop();

  // The trimmed rows are gone from the data dir too: the next start reads no more than the bound.
  const third = await startServer(bounded, first.dataDir);
  t.teardown(async () => {
    await third.stop();
    removeDir(first.dataDir);
  });
  t.ok(heldJobs(third) <= 5);
  t.equal((await http('GET', `${third.url}/v1/jobs/${ids[39]}`, ops)).status, 200);
});
