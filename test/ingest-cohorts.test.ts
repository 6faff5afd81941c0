// Ingest hands fixes to the store by driver cohort: in order per driver, each within sealMs, all on flush().
import t from 'tap';
import { FleetRegistry } from '../src/fleet/fleet-registry.js';
import { Ingest } from '../src/ingest/ingest.js';
import { Metrics } from '../src/observability/metrics.js';
import { FixBatch, type FixInput } from '../src/storage/fix-batch.js';
import type { HistoryStore } from '../src/storage/ports.js';

/** A store that records every hand-over as (time, driver, ts) rows. */
class RecordingStore implements HistoryStore {
  handovers: Array<{ at: number; rows: Array<[string, number]> }> = [];
  appendFixes(input: FixInput): void {
    const b = input instanceof FixBatch ? input : FixBatch.of(input);
    const rows: Array<[string, number]> = [];
    for (let i = 0; i < b.length; i++) rows.push([b.drivers[i]!, b.ts[i]!]);
    this.handovers.push({ at: Date.now(), rows });
  }
  backlog(): number {
    return 0;
  }
  async track(): Promise<{ points: [] }> {
    return { points: [] };
  }
}

const world = [{ name: 'world', timezone: 'UTC', boundary: null }];

t.test('every fix reaches the store once, in order per driver, within sealMs; cohorts take turns', async (t) => {
  const store = new RecordingStore();
  const fleet = new FleetRegistry({ cities: world, rebuildMs: 1000, expireMs: 60_000 });
  const ingest = new Ingest(fleet, store, new Metrics(), { sealMs: 400, cohorts: 4 });
  const t0 = Date.now() - 60_000;
  const sent = new Map<string, number[]>();
  for (let round = 0; round < 5; round++) {
    for (let d = 0; d < 20; d++) {
      const ts = t0 + round * 1000 + d;
      ingest.accept('d' + d, { ts, lat: 41 + d * 1e-3, lng: -8 + round * 1e-5, hdg: NaN, spd: NaN, acc: NaN }, Date.now());
      sent.set('d' + d, [...(sent.get('d' + d) ?? []), ts]);
    }
  }
  t.equal(ingest.bufferedFixes, 100);
  const start = Date.now();
  while (ingest.bufferedFixes > 0 && Date.now() - start < 3000) await new Promise((r) => setTimeout(r, 20));
  t.equal(ingest.bufferedFixes, 0, 'all handed over by the timer');
  t.ok(Date.now() - start < 1000, 'within about sealMs');
  t.ok(store.handovers.length >= 4, 'one hand-over per cohort');
  const got = new Map<string, number[]>();
  for (const h of store.handovers) {
    const drivers = new Set(h.rows.map((r) => r[0]));
    t.ok(drivers.size <= 5, 'a hand-over holds one cohort (a quarter of the drivers)');
    for (const [d, ts] of h.rows) got.set(d, [...(got.get(d) ?? []), ts]);
  }
  t.same(got, sent, 'every fix once, in arrival order per driver');
});

t.test('flush() hands over every cohort at once; a full cohort goes without waiting', async (t) => {
  const store = new RecordingStore();
  const fleet = new FleetRegistry({ cities: world, rebuildMs: 1000, expireMs: 60_000 });
  const ingest = new Ingest(fleet, store, new Metrics(), { sealMs: 60_000, cohorts: 8, maxCohortFixes: 10 });
  const now = Date.now();
  for (let i = 0; i < 10; i++) ingest.accept('solo', { ts: now - 20_000 + i * 1000, lat: 41 + i * 1e-4, lng: -8, hdg: NaN, spd: NaN, acc: NaN }, now);
  t.equal(store.handovers.length, 1, 'the full cohort was handed over at once');
  t.equal(store.handovers[0]!.rows.length, 10);
  for (let d = 0; d < 8; d++) ingest.accept('x' + d, { ts: now - 1000, lat: 42, lng: -8 + d * 1e-3, hdg: NaN, spd: NaN, acc: NaN }, now);
  t.equal(ingest.bufferedFixes, 8);
  ingest.flush();
  t.equal(ingest.bufferedFixes, 0);
  t.equal(store.handovers.reduce((n, h) => n + h.rows.length, 0), 18);
});

t.test('a starved event loop does not stretch the wait past sealMs: a late tick hands over every due cohort', async (t) => {
  // The chaos run of 2026-12-04 at load 30 lost fixes acknowledged over 10 s before a SIGKILL: with late
  // 250 ms ticks, 16 turns of the cohorts took far longer than sealMs.
  const store = new RecordingStore();
  const fleet = new FleetRegistry({ cities: world, rebuildMs: 1000, expireMs: 60_000 });
  const ingest = new Ingest(fleet, store, new Metrics(), { sealMs: 400, cohorts: 16 });
  const t0 = Date.now() - 60_000;
  for (let d = 0; d < 32; d++) ingest.accept('s' + d, { ts: t0 + d, lat: 41 + d * 1e-3, lng: -8, hdg: NaN, spd: NaN, acc: NaN }, Date.now());
  const busyUntil = Date.now() + 600; // the event loop starved past sealMs: no tick runs meanwhile
  while (Date.now() < busyUntil) { /* starve */ }
  await new Promise((r) => setTimeout(r, 30)); // the first (late) tick runs
  t.equal(store.handovers.reduce((n, h) => n + h.rows.length, 0), 32, 'every cohort whose fixes waited sealMs was handed over by the first late tick');
  t.equal(ingest.bufferedFixes, 0);
  ingest.flush();
});
