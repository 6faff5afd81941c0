// Trip telemetry reactions on the real in-memory pieces: fixes → rider pos and ETA speed grid, mirrored fixes → grid, completed job → ETA trip.
import t from 'tap';
import { MemoryBus } from '../src/bus/bus.js';
import { BusNotifier, attachDeliveries } from '../src/bus/deliveries.js';
import { MemoryTimers } from '../src/bus/timers.js';
import { ETA_TRIPS_CHANNEL, EtaService } from '../src/eta/eta-service.js';
import { MemoryEtaStateStore } from '../src/eta/eta-state-store.js';
import { DriverStatus } from '../src/fleet/city-fleet.js';
import { FleetRegistry } from '../src/fleet/fleet-registry.js';
import { Ingest } from '../src/ingest/ingest.js';
import { JobService } from '../src/matching/job-service.js';
import { MemoryJobRepo } from '../src/matching/memory-job-repo.js';
import { fixTelemetry, mirroredFixTelemetry, tripLearning } from '../src/matching/trip-telemetry.js';
import { createLogger } from '../src/observability/logger.js';
import { Metrics } from '../src/observability/metrics.js';
import type { Fix } from '../src/protocol/messages.js';
import { MemoryStorage } from '../src/storage/memory-storage.js';
import type { JobRecord } from '../src/storage/ports.js';
import { Unpackr } from 'msgpackr';

const CITY = 'world';
const DELIVER = 'deliver';

async function rig() {
  const logger = createLogger('silent');
  const metrics = new Metrics();
  const bus = new MemoryBus();
  const fleet = new FleetRegistry({ cities: [{ name: CITY, timezone: 'UTC', boundary: null }], rebuildMs: 1000, expireMs: 60_000 });
  const storage = new MemoryStorage();
  const ingest = new Ingest(fleet, storage, metrics);
  const eta = await EtaService.open({
    cities: [{ name: CITY, timezone: 'UTC', boundary: null }], locator: fleet.locator, store: new MemoryEtaStateStore(), logger,
    bus, fallbackSpeedMps: 8.3, baseDir: '.', isWriter: async () => true,
  });
  const timers = new MemoryTimers();
  const jobs = new JobService({
    fleet, repo: new MemoryJobRepo(), timers, store: storage, eta: eta.model, notifier: new BusNotifier(bus, DELIVER), metrics, logger,
    dispatch: { radiusM: 5000, offerTimeoutMs: 10_000, maxAttempts: 3, staleMs: 30_000, speedMps: 8.3, searchWindowMs: 0, maxRadiusM: 5000, batchWindowMs: 2000 }, cityDispatch: new Map(),
    recordedListeners: [tripLearning(fleet, eta)],
  });
  const pos: string[] = [];
  await attachDeliveries(bus, DELIVER, [jobs, { jobPos: (job: string) => void pos.push(job) }], (err) => { throw err; });
  const trips: unknown[] = [];
  const unpackr = new Unpackr({ useRecords: false });
  await bus.subscribe(ETA_TRIPS_CHANNEL, (p) => void trips.push(unpackr.unpack(p)));
  ingest.addMoveListener(fixTelemetry(jobs, eta));
  fleet.addRemoteMoveListener(mirroredFixTelemetry(jobs, eta));
  jobs.start();
  const close = async (): Promise<void> => {
    jobs.stop();
    await timers.close();
    await eta.stop();
    await storage.close();
  };
  return { fleet, ingest, eta, jobs, pos, trips, close };
}

/** One fix of `driver` `i` seconds after `t0`, moving north ~10 m/s (a fresh object: ingest copies what it keeps). */
function fix(t0: number, i: number, lngOffset = 0): Fix {
  return { ts: t0 + i * 1000, lat: 45 + i * 9e-5, lng: 7 + lngOffset, hdg: 0, spd: 10, acc: 5 };
}

t.test('fixes of a driver on a job reach the rider as pos and teach the speed grid; fixes off a job do neither', async (t) => {
  const r = await rig();
  t.teardown(r.close);
  const t0 = Date.now() - 12_000; // fresh enough to be offered the job (staleMs 30 s), never in the future
  await r.jobs.setDriverStatus('d1', 'available');
  for (let i = 0; i < 3; i++) r.ingest.accept('d1', fix(t0, i), Date.now());
  t.equal(r.pos.length, 0, 'no job: no pos');
  t.equal(r.eta.telemetryS(CITY), 0, 'no job: parked or cruising cars teach nothing');

  const job = await r.jobs.create('r1', { lat: 45.001, lng: 7 }, { lat: 45.02, lng: 7 }, 'taxi');
  t.equal(r.fleet.statusOf('d1'), DriverStatus.available);
  await r.jobs.driverAction('d1', 'accept', job.id);
  await r.jobs.driverAction('d1', 'arrived', job.id);
  await r.jobs.driverAction('d1', 'start', job.id);
  t.ok(r.jobs.onTrip('d1'));
  for (let i = 3; i < 8; i++) r.ingest.accept('d1', fix(t0, i), Date.now());
  t.ok(r.pos.length >= 1 && r.pos.every((j) => j === job.id), `the rider got pos frames of its job (${r.pos.length})`);
  const learned = r.eta.telemetryS(CITY);
  t.ok(learned >= 3, `speed grid saw the driven seconds (${learned} s)`);

  // Mirrored from another node: d2 is not on a job here, so it teaches nothing; d1 is, so it does (no pos: its node relays).
  const posBefore = r.pos.length;
  for (let i = 0; i < 3; i++) r.fleet.applyRemote('d2', CITY, 45 + i * 9e-5, 7.01, t0 + i * 1000, 0, 10, DriverStatus.available);
  t.equal(r.eta.telemetryS(CITY), learned, 'mirrored fixes of a driver off a job teach nothing');
  for (let i = 8; i < 11; i++) r.fleet.applyRemote('d1', CITY, 45 + i * 9e-5, 7, t0 + i * 1000, 0, 10, DriverStatus.busy);
  t.ok(r.eta.telemetryS(CITY) > learned, 'mirrored fixes of a driver on a job teach the grid');
  t.equal(r.pos.length, posBefore, 'mirrored fixes send no pos from this node');

  // Completing the job teaches the trip, ending where the driver is.
  await r.jobs.driverAction('d1', 'complete', job.id);
  t.equal(r.trips.length, 1, 'one completed trip published for every node to learn');
  const at = r.fleet.position('d1')!;
  t.match(r.trips[0], { c: CITY, s: 'd1' });
  const tr = (r.trips[0] as { t: number[] }).t;
  t.same(tr.slice(0, 4), [45.001, 7, at.lat, at.lng], 'from the pickup to the driver\'s position');
  t.notOk(r.jobs.onTrip('d1'));
});

t.test('trip learning: only completed jobs with a driver; the dropoff stands in for an unknown position', async (t) => {
  const r = await rig();
  t.teardown(r.close);
  const learn = tripLearning(r.fleet, r.eta);
  const now = Date.now();
  const base: JobRecord = {
    id: 'j1', state: 'completed', rider: 'r1', driver: 'gone', pickup: { lat: 45, lng: 7 }, dropoff: { lat: 45.03, lng: 7.02 },
    product: 'standard', city: CITY, created_ts: now - 900_000, updated_ts: now, times: { in_progress: now - 600_000, completed: now },
  };
  learn({ ...base, state: 'in_progress' });
  learn({ ...base, driver: null });
  t.equal(r.trips.length, 0, 'not completed, or no driver: nothing learned');
  learn(base);
  t.equal(r.trips.length, 1);
  t.same((r.trips[0] as { t: number[] }).t.slice(0, 4), [45, 7, 45.03, 7.02], 'driver not in the fleet: ends at the dropoff');
  learn({ ...base, dropoff: null });
  t.equal(r.trips.length, 1, 'no position and no dropoff: nothing learned');
});
