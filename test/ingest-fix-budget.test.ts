// The per-driver fix budget (a token bucket in DriverTracks): burst, sustained rate, clock steps, slot reuse, and ingest's tally.
import t from 'tap';
import { fixBudgetFromEnv } from '../src/config/fix-budget.js';
import { loadConfig } from '../src/config/load-config.js';
import { DriverTracks } from '../src/ingest/jump-filter.js';
import { FixVerdict, Ingest } from '../src/ingest/ingest.js';
import { FleetRegistry } from '../src/fleet/fleet-registry.js';
import { Metrics } from '../src/observability/metrics.js';
import { MemoryStorage } from '../src/storage/memory-storage.js';

const NOW = 1_764_300_000_000;

/** How many of `n` takes at `now` succeed. */
function takeN(d: DriverTracks, slot: number, n: number, now: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (d.take(slot, now)) ok++;
  return ok;
}

t.test('no budget: every take succeeds', async (t) => {
  const d = new DriverTracks(16);
  const s = d.slotFor('a');
  t.equal(takeN(d, s, 100_000, NOW), 100_000);
  t.equal(d.tokensLeft(s, NOW), Infinity);
});

t.test('a new driver starts with the full burst, then gets the sustained rate', async (t) => {
  const d = new DriverTracks(16, { ratePerS: 5, burst: 7200 });
  const s = d.slotFor('a');
  t.equal(takeN(d, s, 10_000, NOW), 7200, 'the burst, at once');
  t.notOk(d.take(s, NOW), 'then nothing');
  t.equal(takeN(d, s, 10, NOW + 199), 0, 'less than one token after 199 ms');
  t.equal(takeN(d, s, 10, NOW + 200), 1, 'one token per 200 ms');
  t.equal(takeN(d, s, 100, NOW + 10_200), 50, '5 per second over 10 s');
  t.equal(takeN(d, s, 100_000, NOW + 10_200 + 3_600_000), 7200, 'an hour of quiet refills to the burst, not beyond');
});

t.test('a steady sender at the sustained rate is never refused', async (t) => {
  const d = new DriverTracks(16, { ratePerS: 5, burst: 10 });
  const s = d.slotFor('a');
  takeN(d, s, 10, NOW);
  let refused = 0;
  for (let i = 1; i <= 5000; i++) if (!d.take(s, NOW + i * 200)) refused++;
  t.equal(refused, 0, '5000 fixes at exactly 5/s after the burst');
  // Time in ms modulo 2^32: crossing a wrap of the stored clock changes nothing.
  const wrap = 2 ** 32 * 400;
  const w = d.slotFor('w');
  takeN(d, w, 10, wrap - 1000);
  t.equal(takeN(d, w, 10, wrap + 1000), 10, '2 s across the wrap refill 10');
});

t.test('a clock stepping back refills nothing and restarts the count', async (t) => {
  const d = new DriverTracks(16, { ratePerS: 10, burst: 5 });
  const s = d.slotFor('a');
  t.equal(takeN(d, s, 10, NOW), 5);
  t.equal(takeN(d, s, 10, NOW - 60_000), 0, 'back a minute: nothing');
  t.equal(takeN(d, s, 10, NOW - 59_900), 1, 'counting from the new time');
});

t.test('each driver has its own bucket; a forgotten slot is reused with a full one', async (t) => {
  const d = new DriverTracks(16, { ratePerS: 1, burst: 3 });
  const slots = Array.from({ length: 100 }, (_, i) => d.slotFor('g' + i));
  for (const s of slots) t.equal(takeN(d, s, 5, NOW), 3);
  d.forget('g7', NOW);
  t.equal(d.owingCount, 1, 'not forgotten while its budget is not full: it would get a fresh burst');
  t.equal(d.slotFor('g7'), slots[7]);
  t.equal(takeN(d, slots[7]!, 5, NOW), 0, 'still spent');
  d.forgetOwing(NOW + 2000);
  t.equal(d.owingCount, 1, '2 s later: 2 of 3 tokens back, still kept');
  d.forgetOwing(NOW + 3000);
  t.equal(d.owingCount, 0, 'full again: forgotten');
  const reused = d.slotFor('newcomer');
  t.equal(reused, slots[7]);
  t.equal(takeN(d, reused, 5, NOW), 3, 'full bucket, not the old driver\'s empty one');
});

t.test('a kept driver that comes back with a live fix keeps its fix state when other drivers are forgotten', async (t) => {
  const d = new DriverTracks(16, { ratePerS: 1, burst: 3 });
  const s = d.slotFor('back');
  t.equal(takeN(d, s, 5, NOW), 3);
  t.equal(d.judge(s, NOW, 41.15, -8.61, NOW), FixVerdict.live);
  d.forget('back', NOW);
  t.equal(d.owingCount, 1, 'kept: its budget is spent');
  d.rejoined('back');
  t.equal(d.owingCount, 0, 'a live fix takes it off the list');
  d.forgetOwing(NOW + 10_000);
  t.equal(d.slotOf('back'), s, 'still known after its budget refilled: its last fix still judges the next');
  t.equal(d.judge(s, NOW + 10_000, 45, 2, NOW + 10_000), FixVerdict.jump, 'a teleport is still a jump');
});

t.test('ingest: a fix over budget is refused unjudged and tallied rate_limited', async (t) => {
  const fleet = new FleetRegistry({ cities: [{ name: 'world', timezone: 'UTC', boundary: null }], rebuildMs: 200, expireMs: 3_600_000 });
  const metrics = new Metrics();
  const ingest = new Ingest(fleet, new MemoryStorage(), metrics, { budget: { ratePerS: 2, burst: 3 } });
  const fix = { ts: NOW - 10_000, lat: 43.73, lng: 7.42, hdg: NaN, spd: NaN, acc: NaN };
  t.notOk(ingest.budgetSpent('d1', NOW), 'unknown driver: full budget');
  t.equal(ingest.accept('d1', fix, NOW), FixVerdict.live);
  t.equal(ingest.accept('d1', fix, NOW), FixVerdict.duplicate, 'a duplicate takes a token too');
  fix.ts += 1000;
  t.equal(ingest.accept('d1', fix, NOW), FixVerdict.live);
  t.ok(ingest.budgetSpent('d1', NOW));
  fix.ts += 1000;
  t.equal(ingest.accept('d1', fix, NOW), FixVerdict.rateLimited);
  t.equal(ingest.accept('d2', fix, NOW), FixVerdict.live, 'another driver is not affected');
  t.equal(ingest.accept('d1', fix, NOW + 500), FixVerdict.live, 'one token back after 500 ms at 2/s');
  ingest.countLimited(7);
  t.same(metrics.fixTally, { accepted: 4, duplicate: 1, future: 0, jump: 0, overloaded: 0, rate_limited: 8, invalid: 0 });
  t.match(await metrics.registry.metrics(), /taxiway_fixes_rejected_total\{reason="rate_limited"\} 8/);
  ingest.flush();
  fleet.stop();
});

t.test('configuration: defaults, off, and a rate below the asked fix interval refused', async (t) => {
  t.same(fixBudgetFromEnv({}, 1000), { ratePerS: 5, burst: 7200 }, 'defaults: 5/s, a 2 h backlog at 1 Hz');
  t.equal(fixBudgetFromEnv({ TAXIWAY_FIX_BUDGET_RATE: '0' }, 1000), undefined, '0: no budget');
  t.same(fixBudgetFromEnv({ TAXIWAY_FIX_BUDGET_RATE: '0.5', TAXIWAY_FIX_BUDGET_BURST: '10' }, 5000), { ratePerS: 0.5, burst: 10 });
  t.throws(() => fixBudgetFromEnv({}, 100), /TAXIWAY_FIX_BUDGET_RATE=5: below the 10 fixes\/s that TAXIWAY_FIX_INTERVAL_MS=100/);
  t.throws(() => fixBudgetFromEnv({ TAXIWAY_FIX_BUDGET_BURST: '0' }, 1000), /TAXIWAY_FIX_BUDGET_BURST/);
  t.throws(() => fixBudgetFromEnv({ TAXIWAY_FIX_BUDGET_RATE: '-1' }, 1000), /TAXIWAY_FIX_BUDGET_RATE/);
  t.equal(loadConfig({ TAXIWAY_FIX_BUDGET_RATE: '0' }).fixBudget, undefined);
  t.same(loadConfig({}).fixBudget, { ratePerS: 5, burst: 7200 });
});
