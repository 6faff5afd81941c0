// Learned ETA on small fixtures: learns speeds by time, online corrections, telemetry grid, batch form, persistence, routing, clock.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { haversineMetres } from '../src/fleet/geo.js';
import { BaselineEta } from '../src/eta/baseline.js';
import { CityEta } from '../src/eta/city-eta.js';
import { mulberry32 } from '../src/eta/eta-cv.js';
import { FileEtaStateStore, MemoryEtaStateStore, openLearnedEta, saveLearnedEta } from '../src/eta/eta-state-store.js';
import { LearnedEta } from '../src/eta/learned-eta.js';
import { LocalClock } from '../src/eta/local-clock.js';
import { SpeedGrid } from '../src/eta/speed-grid.js';
import { TripFrame, learnFrame } from '../src/eta/trip-features.js';
import { landmarksNear } from '../src/eta/city-landmarks.js';
import type { TripRow } from '../src/eta/trip-csv.js';
import type { FitInput, FitOutput } from '../src/eta/learned-fit.js';
import { WorkerRpc } from '../src/util/worker-rpc.js';
import { ETA_TRIPS_CHANNEL, EtaService } from '../src/eta/eta-service.js';
import { MemoryBus } from '../src/bus/bus.js';
import { Packr } from 'msgpackr';
import { CityLocator } from '../src/fleet/city-locator.js';
import { createLogger } from '../src/observability/logger.js';

/** Synthetic city around (45, 7): 8 m/s on weekdays 7-9, 12 m/s otherwise, 60 s overhead, x1.3 detour. */
function fixture(n: number, seed: number): TripRow[] {
  const rnd = mulberry32(seed);
  const rows: TripRow[] = [];
  for (let i = 0; i < n; i++) {
    const fromLat = 45 + (rnd() - 0.5) * 0.1, fromLng = 7 + (rnd() - 0.5) * 0.1;
    const toLat = 45 + (rnd() - 0.5) * 0.1, toLng = 7 + (rnd() - 0.5) * 0.1;
    const weekday = 1 + Math.floor(rnd() * 7), hour = Math.floor(rnd() * 24);
    const v = weekday <= 5 && hour >= 7 && hour <= 9 ? 8 : 12;
    const durationS = Math.round(60 + (haversineMetres(fromLat, fromLng, toLat, toLng) * 1.3) / v * Math.exp((rnd() - 0.5) * 0.2));
    rows.push({ id: `t${i}`, fromLat, fromLng, toLat, toLng, weekday, hour, durationS });
  }
  return rows;
}

const A = [45.0, 7.0, 45.03, 7.02] as const; // ~3.2 km
// 2024-03-13 is a Wednesday; 08:30 and 13:30 UTC in zone UTC.
const PEAK = Date.UTC(2024, 2, 13, 8, 30);
const NOON = Date.UTC(2024, 2, 13, 13, 30);

t.test('learns the fixture: close to the truth, slower at the peak, longer trips take longer', async (t) => {
  const m = new LearnedEta({ city: 'fx', timeZone: 'UTC' });
  t.equal(m.seconds(...A, NOON), new BaselineEta(8.3).seconds(...A), 'unfitted: answers like the baseline');
  m.addHistory(fixture(3000, 1));
  const fit = m.fit();
  t.ok(fit.trees > 0);
  const d = haversineMetres(...A) * 1.3;
  const peak = m.seconds(...A, PEAK), noon = m.seconds(...A, NOON);
  t.ok(Math.abs(peak - (60 + d / 8)) / (60 + d / 8) < 0.12, `peak ${peak} s vs ${Math.round(60 + d / 8)}`);
  t.ok(Math.abs(noon - (60 + d / 12)) / (60 + d / 12) < 0.12, `noon ${noon} s vs ${Math.round(60 + d / 12)}`);
  t.ok(peak > noon * 1.2);
  t.ok(m.seconds(45, 7, 45.05, 7.03, NOON) > m.seconds(45, 7, 45.01, 7.005, NOON));
  const e = m.estimate(...A, NOON);
  t.equal(e.eta_s, noon);
  t.equal(e.distance_m, Math.round(haversineMetres(...A) * 1.3));
});

t.test('online: completed trips move predictions toward what was observed, locally', async (t) => {
  const m = new LearnedEta({ city: 'fx', timeZone: 'UTC' });
  m.addHistory(fixture(3000, 2));
  m.fit();
  const before = m.seconds(...A, NOON);
  const elsewhere = m.seconds(45.04, 6.96, 45.02, 6.95, NOON);
  // A new roadworks: trips from A's neighbourhood at midday now take twice as long.
  for (let i = 0; i < 40; i++) m.addTrip({ fromLat: A[0] + i * 1e-5, fromLng: A[1], toLat: A[2], toLng: A[3], startMs: NOON + i * 60_000, durationS: before * 2, source: `d${i}` });
  const after = m.seconds(...A, NOON);
  t.ok(after > before * 1.5, `${before} s -> ${after} s (observed ${before * 2} s)`);
  t.ok(after <= before * 2.05);
  t.ok(Math.abs(m.seconds(45.04, 6.96, 45.02, 6.95, NOON) - elsewhere) < Math.abs(after - before) / 2, 'another area moves less');
  t.equal(m.tripsSinceFit, 40);
  t.notOk(m.maintain(), 'not due before retrainEvery trips');
});

t.test('telemetry: fixes teach the speed grid by area and band', async (t) => {
  const g = new SpeedGrid(45, 7);
  // Slow traffic at 3 m/s around (45.00, 7.00), fast at 15 m/s around (45.05, 7.05), weekday day band 2.
  for (let i = 0; i < 200; i++) {
    g.addSegment(0, 2, 45, 7 + i * 1e-5, 45, 7 + (i + 1) * 1e-5, 45, 15, NOON);
    g.addSegment(1, 2, 45.05, 7.05 + i * 1e-5, 45.05, 7.05 + (i + 1) * 1e-5, 225, 15, NOON);
  }
  const slow = Math.exp(g.logSpeedAlong(45, 7.0005, 45, 7.001, 2));
  const fast = Math.exp(g.logSpeedAlong(45.05, 7.0505, 45.05, 7.051, 2));
  t.ok(slow < 4, `slow area ${slow.toFixed(1)} m/s`);
  t.ok(fast > 12, `fast area ${fast.toFixed(1)} m/s`);
  t.ok(Math.exp(g.logSpeedAlong(45, 7.0005, 45, 7.001, 2, 0)) > slow + 2, 'leaving the fold out forgets its observations');
  const back = SpeedGrid.fromJSON(JSON.parse(JSON.stringify(g.toJSON())));
  t.equal(back.logSpeedAlong(45, 7.0005, 45, 7.001, 2), g.logSpeedAlong(45, 7.0005, 45, 7.001, 2));

  const m = new LearnedEta({ city: 'fx', timeZone: 'UTC' });
  m.observeFix('d1', 45, 7, NOON);
  m.observeFix('d1', 45, 7.001, NOON + 15_000);
  m.observeFix('d1', 46, 7.001, NOON + 30_000); // a GPS jump: dropped
  m.observeFix('d1', 46, 7.002, NOON + 600_000); // after a gap: dropped
  t.ok(Math.abs(m.telemetryS - 15) < 1e-6, 'one 15 s segment kept');
});

t.test('batch form equals one-by-one; state survives a restart', async (t) => {
  const m = new LearnedEta({ city: 'fx', timeZone: 'Europe/Rome' });
  m.addHistory(fixture(800, 3));
  m.fit();
  m.addTrip({ fromLat: 45, fromLng: 7, toLat: 45.02, toLng: 7.01, startMs: NOON, durationS: 900, source: 'd' });
  const lat = Float64Array.of(45.01, 44.98, 45.03), lng = Float64Array.of(7.01, 6.99, 7.04);
  const out = new Float64Array(2);
  m.secondsMany(lat, lng, Int32Array.of(2, 0), 2, 45, 7, NOON, out);
  t.same([...out], [m.seconds(45.03, 7.04, 45, 7, NOON), m.seconds(45.01, 7.01, 45, 7, NOON)]);

  const dir = mkdtempSync(path.join(tmpdir(), 'eta-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new FileEtaStateStore(dir);
  await saveLearnedEta(store, m);
  const back = await openLearnedEta(store, { city: 'fx', timeZone: 'Europe/Rome' });
  t.ok(back.fitted);
  t.equal(back.tripCount, m.tripCount);
  for (const at of [PEAK, NOON]) t.equal(back.seconds(45, 7, 45.02, 7.01, at), m.seconds(45, 7, 45.02, 7.01, at));
  const fresh = await openLearnedEta(new MemoryEtaStateStore(), { city: 'empty', timeZone: 'UTC' });
  t.notOk(fresh.fitted, 'nothing stored, no seed: untrained');
  t.rejects(store.save('../evil', '{}'), /cannot name/);
});

t.test('features: landmarks of the city only; a v 1 state (old layout) is loaded and refitted', async (t) => {
  t.same(landmarksNear(40.75, -73.98).map((l) => l.name), ['nyc-jfk', 'nyc-lga', 'nyc-ewr', 'nyc-midtown', 'nyc-downtown']);
  t.same(landmarksNear(41.16, -8.62).map((l) => l.name), ['porto-opo', 'porto-aliados']);
  const rows = fixture(2500, 4);
  const frame = learnFrame(rows);
  t.same(frame.landmarks, [], 'the fixture city has no landmarks');
  const nyc = new TripFrame(40.75, -73.98, 29, landmarksNear(40.75, -73.98));
  t.equal(nyc.featureNames().length, nyc.size);
  t.equal(nyc.size - nyc.coreSize, 15);
  const x = new Float64Array(nyc.size);
  nyc.fill(x, 40.7614, -73.9776, 40.6413, -73.7781, 3, 8, 2); // Rockefeller Center to JFK
  const to = nyc.featureNames().indexOf('to_nyc-jfk');
  t.ok(x[to]! < Math.log1p(10), 'dropoff at JFK: log distance ~0');
  t.same(TripFrame.fromJSON(JSON.parse(JSON.stringify(nyc.toJSON()))).toJSON(), nyc.toJSON());

  const m = new LearnedEta({ city: 'fx', timeZone: 'UTC' });
  m.addHistory(rows);
  m.fit();
  const old = { ...m.toState(), v: 1 as const, frame: { lat0: 45, lng0: 7, angleDeg: 0 } };
  const back = LearnedEta.fromState(old);
  t.ok(back.fitted);
  t.equal(back.seconds(...A, NOON), m.seconds(...A, NOON), 'refitted on the same trips: the same model');
  t.throws(() => LearnedEta.fromState({ ...m.toState(), v: 3 } as never), /unsupported/);
});

t.test('city router: by destination, then origin, else fallback; local clock', async (t) => {
  const calls: string[] = [];
  const fake = (name: string, s: number) => ({
    name, seconds: () => (calls.push(name), s), estimate: () => ({ eta_s: s, distance_m: 0 }),
    secondsMany: (_a: ArrayLike<number>, _b: ArrayLike<number>, _c: ArrayLike<number> | null, n: number, _d: number, _e: number, _f: number, out: Float64Array | number[]) => {
      for (let i = 0; i < n; i++) out[i] = s;
    },
  });
  const r = new CityEta({ locate: (lat) => (lat > 40 ? 'north' : null), models: new Map([['north', fake('north', 1)]]), fallback: fake('fallback', 2) });
  t.equal(r.seconds(0, 0, 45, 0, 0), 1);
  t.equal(r.seconds(45, 0, 0, 0, 0), 1, 'destination outside: origin decides');
  t.equal(r.seconds(0, 0, 0, 0, 0), 2);
  const out = [0, 0];
  r.secondsMany([0, 0], [0, 0], null, 2, 45, 0, 0, out);
  t.same(out, [1, 1]);

  const c = new LocalClock('America/New_York');
  c.set(Date.UTC(2016, 2, 14, 3, 30)); // Sun 13 Mar 23:30 EDT
  t.same([c.weekday, c.hour], [7, 23]);
  c.set(Date.UTC(2016, 0, 4, 14, 0)); // Mon 4 Jan 09:00 EST
  t.same([c.weekday, c.hour], [1, 9]);
  t.throws(() => new LocalClock('Mars/Olympus'));
});

t.test('a refit on the worker thread equals one in place, leaves the loop free and keeps later trips counted', async (t) => {
  const rpc = new WorkerRpc<FitInput, FitOutput>(new URL('../src/eta/fit-worker.js', import.meta.url), 'eta fit worker');
  t.teardown(() => rpc.close());
  const here = new LearnedEta({ city: 'fx', timeZone: 'UTC', retrainEvery: 100 });
  here.addHistory(fixture(2500, 5));
  here.observeFix('d1', 45, 7, NOON);
  here.observeFix('d1', 45, 7.003, NOON + 15_000);
  const there = LearnedEta.fromState(JSON.parse(JSON.stringify(here.toState())), { retrainEvery: 100 });
  there.tripsSinceFit = here.tripsSinceFit;
  here.fit();

  let turns = 0;
  const tick = setInterval(() => turns++, 1);
  const pending = there.maintainAsync((input) => rpc.call(input, [input.trips.buffer as ArrayBuffer]));
  t.equal(await there.maintainAsync(() => Promise.reject(new Error('must not run'))), null, 'one fit at a time');
  there.addTrip({ fromLat: 45, fromLng: 7, toLat: 45.02, toLng: 7.01, startMs: NOON, durationS: 900, source: 'late' });
  const r = await pending;
  clearInterval(tick);
  t.ok(r && r.trees > 0, 'fitted on the worker');
  t.ok(turns > 0, `the event loop turned ${turns} times during the fit`);
  t.equal(there.tripsSinceFit, 1, 'the trip added during the fit counts toward the next one');
  for (const at of [PEAK, NOON]) {
    t.equal(there.logSeconds(...A, 3, at === PEAK ? 8 : 13, false), here.logSeconds(...A, 3, at === PEAK ? 8 : 13, false), 'same model as in place');
  }
  t.equal(await there.maintainAsync(() => Promise.reject(new Error('not due'))), null, 'not due: no fit');
});

t.test('worker rpc: a worker that cannot start rejects its calls instead of hanging', async (t) => {
  const rpc = new WorkerRpc<number, number>(new URL('./no-such-worker.js', import.meta.url), 'missing');
  await t.rejects(rpc.call(1), /missing|Cannot find|no-such-worker/);
  await t.rejects(rpc.call(2), 'later calls reject too');
  await rpc.close();
});

t.test('EtaService: completed jobs are refitted on the worker and change what the city answers', async (t) => {
  const city = { name: 'fx', timezone: 'UTC', boundary: null };
  const svc = await EtaService.open({
    cities: [city], locator: new CityLocator([city]), store: new MemoryEtaStateStore(), logger: createLogger('silent'),
    fallbackSpeedMps: 8.3, baseDir: '.', isWriter: async () => true,
  });
  t.teardown(() => svc.stop());
  const before = svc.model.seconds(...A, NOON);
  t.equal(before, new BaselineEta(8.3).seconds(...A), 'no seed, no trips: the prior');
  for (const r of fixture(400, 6)) {
    const start = Date.UTC(2024, 2, 11 + ((r.weekday - 1) % 7), r.hour, 10);
    svc.tripCompleted({
      id: r.id, state: 'completed', rider: 'r', driver: `d${r.id}`, pickup: { lat: r.fromLat, lng: r.fromLng }, dropoff: null,
      product: 'standard', city: 'fx', created_ts: start, updated_ts: start, times: { in_progress: start, completed: start + r.durationS * 1000 },
    }, r.toLat, r.toLng);
  }
  await svc.maintain();
  const after = svc.model.seconds(...A, NOON);
  const truth = 60 + (haversineMetres(...A) * 1.3) / 12;
  t.ok(Math.abs(after - truth) < Math.abs(before - truth), `refitted: ${before} s -> ${after} s (truth ${Math.round(truth)} s)`);
});

t.test('EtaService over a bus: a trip completed on one node teaches every node; malformed trip messages are dropped', async (t) => {
  const city = { name: 'fx', timezone: 'UTC', boundary: null };
  const bus = new MemoryBus();
  const open = () => EtaService.open({
    cities: [city], locator: new CityLocator([city]), store: new MemoryEtaStateStore(), logger: createLogger('silent'),
    fallbackSpeedMps: 8.3, baseDir: '.', isWriter: async () => true, bus,
  });
  const a = await open(), b = await open();
  t.teardown(async () => { await a.stop(); await b.stop(); });
  bus.publish(ETA_TRIPS_CHANNEL, Buffer.from([0xc1]));
  bus.publish(ETA_TRIPS_CHANNEL, Buffer.from(new Packr().pack({ c: 'fx', t: [1, 2, 3] })));
  bus.publish(ETA_TRIPS_CHANNEL, Buffer.from(new Packr().pack({ c: 'nowhere', t: [45, 7, 45.01, 7, 0, 60] })));
  for (const r of fixture(400, 7)) {
    const start = Date.UTC(2024, 2, 11 + r.weekday - 1, r.hour, 10);
    a.tripCompleted({
      id: r.id, state: 'completed', rider: 'r', driver: `d${r.id}`, pickup: { lat: r.fromLat, lng: r.fromLng }, dropoff: null,
      product: 'standard', city: 'fx', created_ts: start, updated_ts: start, times: { in_progress: start, completed: start + r.durationS * 1000 },
    }, r.toLat, r.toLng);
  }
  await b.maintain();
  const truth = 60 + (haversineMetres(...A) * 1.3) / 12;
  const got = b.model.seconds(...A, NOON);
  t.ok(Math.abs(got - truth) / truth < 0.25, `node b learned node a's trips: ${got} s (truth ${Math.round(truth)} s)`);
  await a.maintain();
  t.equal(a.model.seconds(...A, NOON), got, 'both nodes fitted the same trips: the same answer');
});
