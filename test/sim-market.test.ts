// The marketplace simulator: a few simulated minutes of Porto demand through the real matching code end in a consistent state, the same way every time.
import { spawn } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import type { TapTest as Tap } from './contract/storage-contract.js';
import { simulate } from '../src/sim/market/market-sim-cli.js';
import { buildDemand } from '../src/sim/market/demand.js';
import { SIM_DEFAULTS, parseSimOptions } from '../src/sim/market/sim-options.js';
import { SIM_POLICIES } from '../src/sim/market/sim-policies.js';
import type { SimOptions } from '../src/sim/market/sim-options.js';
import type { RunOutput } from '../src/sim/market/market-run.js';
import type { TripRow } from '../src/eta/trip-csv.js';
import { TimeHeap } from '../src/util/time-heap.js';
import { VirtualClock } from '../src/util/virtual-clock.js';
import { REPO } from './helpers/cassandra.js';

/** Six simulated minutes (the first of the data's folded hours), a small fleet, many declines, every policy the build runs. */
const SHORT: SimOptions = { ...SIM_DEFAULTS, policies: [...SIM_POLICIES], drivers: 25, hours: 0.1, seed: 7, scale: 2, decline: 0.3 };

t.test('a short run ends with every job final and the counts adding up, for every policy', async (t) => {
  const { runs, requests } = await simulate(SHORT);
  t.same(runs.map((r) => r.result.policy), SIM_POLICIES);
  for (const run of runs) await t.test(run.result.policy, async (t) => checkRun(t, run, requests));
});

function checkRun(t: Tap, { tally, result }: RunOutput, requests: number): void {
  t.ok(requests > 50, `${requests} requests`);
  t.equal(tally.jobs, requests, 'every request became a job');
  t.equal(tally.live, 0, 'no job left live: the run drained');
  t.equal(tally.completed + tally.cancelled + tally.unfulfilled, tally.jobs, 'each job ended exactly one way');
  t.ok(tally.completed > 0 && tally.unfulfilled + tally.cancelled > 0, `a loaded fleet: ${tally.completed} completed, ${tally.cancelled} cancelled, ${tally.unfulfilled} unfulfilled`);
  t.equal(tally.doubleJob, 0, 'no driver ever held two jobs');
  t.equal(tally.doubleOffer, 0, 'no driver ever held two offers');
  t.equal(tally.pickupWaitsMs.length, tally.completed, 'every completed job had its driver arrive (riders give up only before that)');
  t.ok(tally.pickupWaitsMs.every((w) => w > 0), 'waits are positive');
  t.ok(tally.declines > 0 && tally.offers >= tally.declines, `${tally.offers} offers, ${tally.declines} declined`);
  t.equal(result.jobs, tally.jobs);
  t.equal(result.fulfilment, Number((tally.completed / tally.jobs).toFixed(4)));
  t.ok(result.utilisation > 0 && result.utilisation <= 1, `utilisation ${result.utilisation}`);
  t.ok(result.pickup_wait_p50_s <= result.pickup_wait_p90_s, 'p50 <= p90');
}

t.test('a seed gives the same run; another seed another', async (t) => {
  const strip = (r: Awaited<ReturnType<typeof simulate>>): unknown => r.runs.map(({ result, tally }) => ({ ...result, wall_s: 0, tally }));
  const a = strip(await simulate(SHORT));
  const b = strip(await simulate(SHORT));
  t.same(a, b, 'identical outcome, sample by sample');
  t.notSame(strip(await simulate({ ...SHORT, seed: 8 })), a, 'seed 8 differs');
});

t.test('demand: the data\'s hours fold into each simulated hour, scaled, in time order', async (t) => {
  const trip = (hour: number): TripRow => ({ id: String(hour), fromLat: 41.15, fromLng: -8.61, toLat: 41.16, toLng: -8.6, weekday: 1, hour, durationS: 600 });
  const trips = [trip(4), trip(5), trip(6), trip(7)];
  const d = buildDemand(trips, 2, 3, 1);
  t.equal(d.n, 4 * 3 * 2, 'scale 3 over 2 hours');
  const at = [...d.atMs];
  t.same(at, [...at].sort((x, y) => x - y), 'sorted by time');
  t.ok(at.every((x) => x >= 0 && x < 2 * 3_600_000));
  // Hour 4 is the first quarter of each simulated hour, hour 7 the last.
  t.equal(at.filter((x) => x % 3_600_000 < 900_000).length, 6);
  t.ok([...d.patienceMs].every((p) => p >= 240_000 && p <= 720_000), 'patience within 4-12 min');
  t.same(buildDemand(trips, 2, 3, 1), d, 'deterministic');
  t.equal(buildDemand(trips, 1, 0.5, 1).n <= 4, true, 'fractional scale thins');
});

t.test('virtual clock: timers fire in time order, ties in arming order, cleared ones never', async (t) => {
  const c = new VirtualClock(1000);
  const seen: string[] = [];
  c.setTimeout(() => seen.push('b'), 20);
  c.setTimeout(() => seen.push('a'), 10);
  const x = c.setTimeout(() => seen.push('x'), 10);
  c.setTimeout(() => seen.push('a2'), 10);
  c.clearTimeout(x);
  t.equal(c.pending, 3);
  t.equal(c.nextDue(), 1010);
  c.advance(15);
  t.same(seen, ['a', 'a2']);
  t.equal(c.now(), 1015);
  c.setTimeout(() => seen.push('c'), 0);
  t.ok(c.fireNext());
  t.equal(c.now(), 1015, 'a zero delay fires now');
  c.advanceTo(2000);
  t.same(seen, ['a', 'a2', 'c', 'b']);
  t.equal(c.nextDue(), Infinity);
  const h = new TimeHeap<number>();
  const rnd = [5, 3, 9, 3, 1, 7, 3, 0, 9];
  rnd.forEach((v, i) => h.push(v, i));
  const out: number[] = [];
  while (h.size) out.push(h.pop()!);
  t.same(out, [7, 4, 1, 3, 6, 0, 5, 2, 8], 'by time, then insertion');
});

t.test('bad options: an error naming the flag', async (t) => {
  const bad: Array<[string[], RegExp]> = [
    [['--policy', 'fastest'], /--policy fastest is not a dispatch policy \(greedy, batched\)/],
    [['--policy', 'greedy', '--policy', 'greedy'], /--policy greedy is given twice/],
    [['--policy'], /--policy needs a value/],
    [['--drivers', '0'], /--drivers must be an integer from 1/],
    [['--drivers', '2.5'], /--drivers must be an integer/],
    [['--hours', 'abc'], /--hours must be a number/],
    [['--scale', '-1'], /--scale must be a number from 0.01/],
    [['--decline', '1.5'], /--decline must be a number from 0 to 1/],
    [['--city', 'paris'], /--city paris has no demand data \(porto, nyc\)/],
    [['--eta', 'magic'], /--eta must be baseline or learned/],
    [['--bogus', '1'], /--bogus is not an option of taxiway sim/],
  ];
  for (const [argv, re] of bad) t.throws(() => parseSimOptions(argv), re, argv.join(' '));
  const o = parseSimOptions(['--policy', 'greedy', '--drivers', '30', '--hours', '0.5', '--scale', '1.5', '--json']);
  t.same(o, { ...SIM_DEFAULTS, drivers: 30, hours: 0.5, scale: 1.5, json: true });
});

type Run = { code: number; stdout: string; stderr: string };
function taxiway(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(REPO, 'bin/taxiway.js'), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

t.test('taxiway sim --json prints exactly one object of the documented shape', async (t) => {
  const r = await taxiway(['sim', '--city', 'porto', ...SIM_POLICIES.flatMap((p) => ['--policy', p]), '--drivers', '20', '--hours', '0.05', '--seed', '3', '--json']);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.equal(lines.length, 1, 'one line');
  const o = JSON.parse(lines[0]!) as { policies: Array<Record<string, unknown>> };
  t.same(Object.keys(o), ['policies']);
  t.same(o.policies.map((p) => p.policy), SIM_POLICIES, 'one object per policy, in order');
  const keys = ['policy', 'jobs', 'fulfilment', 'pickup_wait_mean_s', 'pickup_wait_p50_s', 'pickup_wait_p90_s', 'offers_per_job', 'utilisation', 'wall_s'];
  for (const p of o.policies) {
    t.same(Object.keys(p), keys);
    for (const k of keys.slice(1)) t.type(p[k], 'number', k);
  }
});

t.test('taxiway sim: tables without --json, exit 2 and a clear line for bad flags', async (t) => {
  const ok = await taxiway(['sim', '--drivers', '20', '--hours', '0.05']);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /policy greedy\n\s+jobs\s+\d+\n\s+fulfilment\s+[\d.]+ %/);
  if (!SIM_POLICIES.includes('batched')) {
    const unavailable = await taxiway(['sim', '--policy', 'greedy', '--policy', 'batched']);
    t.equal(unavailable.code, 2);
    t.match(unavailable.stderr, /^taxiway: --policy batched is not available/);
  }
  const bad = await taxiway(['sim', '--drivers', 'lots']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /^taxiway: --drivers must be an integer/);
  const help = await taxiway(['sim', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /usage: taxiway sim/);
});
