// Experiment outcomes: the Welch interval on known data, histogram quantiles, and the per-window aggregation of job changes, offers and utilisation.
import t from 'tap';
import type { ExperimentDef } from '../src/config/experiments.js';
import { DriverStatus } from '../src/fleet/driver-status.js';
import { FleetRegistry } from '../src/fleet/fleet-registry.js';
import { ExperimentOutcomes } from '../src/matching/experiment-outcomes.js';
import { experimentReport } from '../src/matching/experiment-report.js';
import { ExperimentWindows, HIST_BUCKETS, bucketOf, bucketValue, histogramQuantile } from '../src/matching/experiment-windows.js';
import { offerFrame } from '../src/matching/job-frames.js';
import { schedulesOf } from '../src/matching/switchback.js';
import { Metrics } from '../src/observability/metrics.js';
import type { JobRecord } from '../src/protocol/job-record.js';
import { welchInterval } from '../src/util/welch.js';

t.test('Welch interval on known data (reference: scipy / R t.test)', async (t) => {
  const w = welchInterval([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])!;
  t.equal(w.diff, 3);
  t.ok(Math.abs(w.df - 5.882352941176471) < 1e-9, `df ${w.df}`);
  t.ok(Math.abs(w.lo - -0.887741643736975) < 1e-6, `lo ${w.lo}`);
  t.ok(Math.abs(w.hi - 6.887741643736975) < 1e-6, `hi ${w.hi}`);
  t.equal(welchInterval([1], [2, 3]), null, 'one window is not enough');
  t.same(welchInterval([2, 2], [3, 3]), { diff: 1, lo: 1, hi: 1, df: Infinity }, 'no spread');
});

t.test('histogram buckets keep values within 10%; quantiles come from them', async (t) => {
  for (const v of [0.02, 0.5, 1, 3.7, 60, 1234, 86_400]) {
    const b = bucketValue(bucketOf(v));
    t.ok(Math.abs(b - v) / v < 0.1, `${v} → ${b}`);
  }
  t.equal(bucketOf(0), 0);
  t.equal(bucketOf(1e12), HIST_BUCKETS - 1);
  const h = new Float64Array(HIST_BUCKETS);
  for (let i = 1; i <= 100; i++) h[bucketOf(i)]!++;
  t.ok(Math.abs(histogramQuantile(h, 100, 0.5) - 50) / 50 < 0.1);
  t.ok(Math.abs(histogramQuantile(h, 100, 0.9) - 90) / 90 < 0.1);
  t.ok(Number.isNaN(histogramQuantile(h, 0, 0.5)));
});

t.test('the window ring keeps the newest windows and drops observations older than it holds', async (t) => {
  const w = new ExperimentWindows(3);
  t.ok(w.count(10, 0));
  t.ok(w.count(13, 0), 'window 13 takes window 10’s slot');
  t.notOk(w.count(10, 0), 'window 10 is gone');
  t.ok(w.count(11, 0, 2));
  const seen: Array<[number, number]> = [];
  w.forEach((i, r) => seen.push([i, r.count(0)]));
  t.same(seen, [[11, 2], [13, 1]]);
  const changes = w.takeChanges();
  t.same(changes.evicted, [10], 'window 10 was evicted: its stored copy goes');
  t.same(changes.changed.sort(), [11, 13]);
  const copy = new ExperimentWindows(3);
  t.ok(copy.restore(11, w.stored(11)!));
  t.notOk(copy.restore(12, { f64: [1], hist: [] }), 'a malformed stored window is refused');
  copy.forEach((i, r) => t.same([i, r.count(0)], [11, 2], 'restored'));
});

const def: ExperimentDef = { name: 'e', windowMs: 10_000, seed: 3, arms: [{ name: 'a', policy: 'greedy' }, { name: 'b', policy: 'greedy', params: { radiusM: 900 } }] };

t.test('job changes, offers and utilisation fold into the window of the arm; the report compares arms over windows', async (t) => {
  const cities = [{ name: 'c', timezone: 'UTC', boundary: null, experiments: [def] }];
  const fleet = new FleetRegistry({ cities, rebuildMs: 1000, expireMs: 3_600_000 });
  const metrics = new Metrics();
  let now = 0;
  const schedules = schedulesOf(cities);
  const s = schedules.get('c')![0]!;
  const out = new ExperimentOutcomes({ schedules, fleet, metrics, clock: { now: () => now }, windowsKept: 100, jobsTracked: 1000 });
  // Windows 0..7: find two of each arm.
  const byArm: number[][] = [[], []];
  for (let w = 0; w < 40; w++) byArm[s.armOfWindow(w)]!.push(w);
  t.ok(byArm[0]!.length >= 2 && byArm[1]!.length >= 2);
  let n = 0;
  /** One job in window `w`: created, offered `offers` times (first after 1 s), accepted after `acceptS` with ETA `eta`, arrived `waitS` later, completed. */
  const job = (w: number, offers: number, acceptS: number, eta: number, waitS: number): void => {
    const arm = s.armOfWindow(w);
    const created = s.windowStart(w) + 100;
    const rec: JobRecord = {
      id: `j${n++}`, state: 'dispatching', rider: 'r', driver: null, pickup: { lat: 0, lng: 0 }, dropoff: null, product: 'taxi', city: 'c',
      created_ts: created, updated_ts: created, times: { dispatching: created }, arm: `e/${def.arms[arm]!.name}`,
    };
    out.jobChanged(structuredClone(rec));
    for (let i = 0; i < offers; i++) {
      now = created + 1000 * (i + 1);
      out.toDriver('d', offerFrame(rec, 30, now + 10_000));
    }
    const accepted = created + acceptS * 1000;
    rec.state = 'accepted';
    rec.times.accepted = accepted;
    rec.eta_s = eta;
    out.jobChanged(structuredClone(rec));
    delete rec.eta_s;
    rec.times.arrived = accepted + waitS * 1000;
    rec.times.in_progress = rec.times.arrived + 1000;
    rec.times.completed = rec.times.in_progress + 60_000;
    rec.state = 'completed';
    out.jobChanged(structuredClone(rec));
  };
  const cancelled = (w: number): void => {
    const arm = s.armOfWindow(w);
    const created = s.windowStart(w) + 200;
    const rec: JobRecord = {
      id: `j${n++}`, state: 'cancelled', rider: 'r', driver: null, pickup: { lat: 0, lng: 0 }, dropoff: null, product: 'taxi', city: 'c',
      created_ts: created, updated_ts: created + 5000, times: { dispatching: created, cancelled: created + 5000 }, arm: `e/${def.arms[arm]!.name}`,
    };
    out.jobChanged(rec);
  };
  // Arm a: pickup waits 100 and 120 s; arm b: 60 and 70 s (one job per window each, plus one cancel in b's first window).
  const [a1, a2] = byArm[0]!, [b1, b2] = byArm[1]!;
  job(a1!, 1, 5, 90, 100);
  job(a2!, 2, 8, 110, 120);
  job(b1!, 1, 3, 50, 60);
  job(b2!, 3, 4, 65, 70);
  cancelled(b1!);
  // Utilisation: 4 drivers online, 1 busy, sampled in a1; 2 busy sampled in b1.
  for (let i = 0; i < 4; i++) fleet.applyRemote(`d${i}`, 'c', 0, 0, 1, NaN, NaN, i === 0 ? DriverStatus.busy : DriverStatus.available);
  out.sampleUtilisation(s.windowStart(a1!) + 10);
  fleet.setStatus('d1', DriverStatus.busy);
  out.sampleUtilisation(s.windowStart(b1!) + 10);

  const r = experimentReport(out.experiments[0]!, s.windowStart(a1!));
  t.equal(r.current_arm, 'a');
  const [ra, rb] = r.arms;
  t.equal(ra!.jobs, 2);
  t.equal(rb!.jobs, 3);
  t.equal(rb!.rider_cancelled, 1);
  t.equal(ra!.rates.fulfilment_rate, 1);
  t.equal(rb!.rates.fulfilment_rate, 2 / 3);
  t.equal(ra!.rates.driver_utilisation, 0.25);
  t.equal(rb!.rates.driver_utilisation, 0.5);
  t.equal(ra!.measures.pickup_wait_s.mean, 110);
  t.equal(rb!.measures.pickup_wait_s.mean, 65);
  t.equal(ra!.measures.offers_per_job.mean, 1.5);
  t.equal(rb!.measures.offers_per_job.n, 2, 'the cancelled job was never seen live: no offer count');
  t.equal(ra!.measures.time_to_first_offer_s.mean, 1);
  t.equal(ra!.measures.time_to_accept_s.mean, 6.5);
  t.equal(ra!.measures.pickup_eta_s.mean, 100);
  t.ok(Math.abs(ra!.measures.pickup_wait_s.p90! - 120) / 120 < 0.1);
  const cmp = r.comparisons[0]!;
  t.equal(cmp.arm, 'b');
  t.equal(cmp.baseline, 'a');
  // Over windows: a = [100, 120], b = [60, 70] → diff −45 with Welch's interval.
  const w = welchInterval([100, 120], [60, 70])!;
  t.equal(cmp.outcomes.pickup_wait_s.diff, -45);
  t.same(cmp.outcomes.pickup_wait_s.ci95, [w.lo, w.hi]);
  t.same(cmp.outcomes.pickup_wait_s.windows, [2, 2]);
  t.same(cmp.outcomes.fulfilment_rate.windows, [2, 2]);
  t.equal(cmp.outcomes.driver_utilisation.ci95, null, 'one window per arm sampled: no interval');
  const text = await metrics.registry.metrics();
  t.match(text, /taxiway_experiment_jobs_total\{city="c",experiment="e",arm="b",state="cancelled"\} 1/);
  t.match(text, /taxiway_experiment_offers_total\{city="c",experiment="e",arm="a"\} 3/);
  t.match(text, /taxiway_experiment_pickup_wait_seconds_count\{city="c",experiment="e",arm="b"\} 2/);
});

t.test('live jobs past the tracking cap are dropped, oldest first, and counted', async (t) => {
  const cities = [{ name: 'c', timezone: 'UTC', boundary: null, experiments: [def] }];
  const metrics = new Metrics();
  const schedules = schedulesOf(cities);
  const out = new ExperimentOutcomes({ schedules, fleet: new FleetRegistry({ cities, rebuildMs: 1000, expireMs: 60_000 }), metrics, clock: { now: () => 0 }, windowsKept: 10, jobsTracked: 100 });
  const arm = schedules.get('c')![0]!.armOfWindow(0);
  for (let i = 0; i < 150; i++) {
    out.jobChanged({ id: `j${i}`, state: 'dispatching', rider: 'r', driver: null, pickup: { lat: 0, lng: 0 }, dropoff: null, product: 'taxi', city: 'c', created_ts: 1, updated_ts: 1, times: {}, arm: `e/${def.arms[arm]!.name}` });
  }
  t.match(await metrics.registry.metrics(), /taxiway_experiment_observations_dropped_total\{reason="evicted"\} 50/);
  out.jobChanged({ id: 'x', state: 'dispatching', rider: 'r', driver: null, pickup: { lat: 0, lng: 0 }, dropoff: null, product: 'taxi', city: 'c', created_ts: 1, updated_ts: 1, times: {}, arm: 'e/zzz' });
  t.match(await metrics.registry.metrics(), /taxiway_experiment_observations_dropped_total\{reason="unknown_arm"\} 1/);
});
