// The dashboard's pure logic in Node: snapshot and job frames merged by ts, time in state, KPIs from two /metrics samples.
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { packagePath } from '../src/util/package-root.js';

const jobsJs = await import(pathToFileURL(packagePath('web', 'jobs.js')).href);
const kpisJs = await import(pathToFileURL(packagePath('web', 'kpis.js')).href);

t.test('live jobs: the newest ts wins between the snapshot and job frames; finished jobs are not revived', async (t) => {
  const j = new jobsJs.LiveJobs();
  j.onFrame({ job: 'a', state: 'accepted', ts: 200, created_ts: 100 });
  j.onFrame({ job: 'b', state: 'cancelled', ts: 210, created_ts: 100 });
  j.onSnapshot({
    jobs: [
      { job: 'a', state: 'dispatching', ts: 150, created_ts: 100 }, // older than the frame: ignored
      { job: 'b', state: 'dispatching', ts: 150, created_ts: 100 }, // ended after the read: ignored
      { job: 'c', state: 'dispatching', ts: 180, created_ts: 120 },
    ],
    more: true,
  });
  t.same([...j.live.keys()].sort(), ['a', 'c']);
  t.equal(j.live.get('a').f.state, 'accepted');
  t.equal(j.more, true);
  t.equal(j.live.get('c').entered, 120, 'dispatching since creation, whatever its latest ts');
  t.equal(j.live.get('a').entered, 200, 'accepted since the frame that accepted it');
  j.onFrame({ job: 'a', state: 'accepted', ts: 260, created_ts: 100, eta_s: 30 });
  t.equal(j.live.get('a').entered, 200, 'a change within the state keeps the time it entered it');
  t.match(j.counts(), { accepted: 1, dispatching: 1, cancelled: 1 });
  j.onFrame({ job: 'c', state: 'unfulfilled', ts: 300 });
  j.onFrame({ job: 'c', state: 'unfulfilled', ts: 300 });
  t.equal(j.counts().unfulfilled, 1, 'a final state is counted once');
  t.same(j.values('state'), ['accepted']);
});

t.test('stuck thresholds can be set from the page address', async (t) => {
  const before = { ...jobsJs.STUCK_MS };
  t.teardown(() => Object.assign(jobsJs.STUCK_MS, before));
  jobsJs.setStuckFrom('dispatching:30,bogus:5,accepted:-1,arrived:x');
  t.equal(jobsJs.STUCK_MS.dispatching, 30_000);
  t.equal(jobsJs.STUCK_MS.accepted, before.accepted, 'a bad value is ignored');
  t.equal(jobsJs.fmtDuration(61_000), '1 min 01 s');
});

const sample = (at: number, v: Record<string, number>): { at: number; m: Map<string, number> } => {
  const text = Object.entries(v).map(([k, n]) => `${k} ${n}`).join('\n') + '\n# HELP other\nprocess_cpu_seconds_total 5\n';
  return { at, m: kpisJs.parseMetrics(text) };
};

t.test('KPIs from two /metrics samples, and since the node started when the window is quiet', async (t) => {
  const H = 'taxiway_dispatch_offer_latency_seconds';
  const a = sample(0, {
    taxiway_fixes_accepted_total: 100, [`${H}_count`]: 10, [`${H}_sum`]: 0.01, [`${H}_bucket{le="0.001"}`]: 10, [`${H}_bucket{le="0.01"}`]: 10, [`${H}_bucket{le="+Inf"}`]: 10,
    'taxiway_jobs_total{state="accepted"}': 5, 'taxiway_jobs_total{state="completed"}': 4, 'taxiway_jobs_total{state="unfulfilled"}': 0,
  });
  const b = sample(10_000, {
    taxiway_fixes_accepted_total: 600, [`${H}_count`]: 30, [`${H}_sum`]: 0.11, [`${H}_bucket{le="0.001"}`]: 11, [`${H}_bucket{le="0.01"}`]: 30, [`${H}_bucket{le="+Inf"}`]: 30,
    'taxiway_jobs_total{state="accepted"}': 15, 'taxiway_jobs_total{state="completed"}': 7, 'taxiway_jobs_total{state="unfulfilled"}': 1,
  });
  const k = kpisJs.kpis(a, b);
  t.equal(k.windowS, 10);
  t.equal(k.fixesPerS, 50);
  t.equal(Math.round(k.offerMeanMs), 5, '0.1 s over 20 offers');
  t.equal(k.offerP95Ms, 10, 'p95 within the 10 ms bucket');
  t.equal(k.acceptance, 0.5);
  t.equal(k.unfulfilledRate, 0.25);
  t.equal(k.offersSince, 'window');
  const quiet = kpisJs.kpis(b, sample(20_000, Object.fromEntries([...b.m])));
  t.equal(quiet.fixesPerS, 0);
  t.equal(quiet.offersSince, 'start', 'no offer in the window: totals since the start');
  t.equal(quiet.acceptance, 0.5);
  t.equal(quiet.unfulfilledRate, 1 / 8);
  t.equal(kpisJs.kpis(b, b).windowS, null);
});

t.test('labels the KPIs do not read (the offer latency\'s policy) are summed over', async (t) => {
  const H = 'taxiway_dispatch_offer_latency_seconds';
  const m = kpisJs.parseMetrics([
    `${H}_bucket{le="0.01",policy="greedy"} 3`, `${H}_bucket{le="0.01",policy="batched"} 4`,
    `${H}_count{policy="greedy"} 5`, `${H}_count{policy="batched"} 6`, 'taxiway_jobs_total{state="accepted"} 2',
  ].join('\n'));
  t.equal(m.get(`${H}_bucket{le="0.01"}`), 7);
  t.equal(m.get(`${H}_count`), 11);
  t.equal(m.get('taxiway_jobs_total{state="accepted"}'), 2);
});
