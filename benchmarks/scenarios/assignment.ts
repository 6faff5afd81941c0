// Batched dispatch, in-process and seeded: `assignment_ms` (500 pending jobs × their 16 best drivers among
// 50,000, solved as one minimum-cost assignment) and the batched policy's request → offer latency on the
// real JobService (memory adapters, system clock) with jobs arriving at random times.
import { MemoryBus } from '../../src/bus/bus.js';
import { BusNotifier, attachDeliveries } from '../../src/bus/deliveries.js';
import { MemoryLease } from '../../src/bus/lease.js';
import { MemoryTimers } from '../../src/bus/timers.js';
import type { DispatchSettings } from '../../src/config/dispatch-settings.js';
import { BaselineEta } from '../../src/eta/baseline.js';
import { DriverStatus } from '../../src/fleet/driver-status.js';
import { FleetRegistry } from '../../src/fleet/fleet-registry.js';
import { solveAssignment } from '../../src/matching/assignment.js';
import { UNASSIGNED_PENALTY_S } from '../../src/matching/batched-policy.js';
import { CandidateFinder, newCandidateList } from '../../src/matching/dispatch.js';
import type { JobDoc } from '../../src/matching/job-repo.js';
import { JobService } from '../../src/matching/job-service.js';
import { MemoryJobRepo } from '../../src/matching/memory-job-repo.js';
import { createLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { decodeFrame } from '../../src/protocol/codec.js';
import { MemoryStorage } from '../../src/storage/memory-storage.js';
import { cityPoints, log, rng, round, sleep, summarize } from '../lib/util.js';
import type { Summary } from '../lib/util.js';

export interface AssignmentOptions {
  drivers: number;
  jobs: number;
  /** Batches timed (each a fresh seeded set of pending jobs). */
  trials: number;
  /** Batched request → offer part: how long jobs arrive, s, at `rate` per second, with this batch window. */
  latencyS: number;
  rate: number;
  batchWindowMs: number;
  seed: number;
}

export const ASSIGNMENT_DEFAULTS: AssignmentOptions = { drivers: 50_000, jobs: 500, trials: 40, latencyS: 10, rate: 50, batchWindowMs: 1000, seed: 1 };

export interface AssignmentReport {
  options: AssignmentOptions;
  /** Solving only (graph given), ms per batch. */
  solveMs: Summary;
  /** Finding the 16 candidates of every job and their ETAs, then solving, ms per batch. */
  batchMs: Summary;
  /** Mean distinct drivers in a batch's graph, and the largest connected component (jobs). */
  meanColumns: number;
  maxComponentJobs: number;
  /** Batched policy end to end: job created → its offer sent, ms. */
  requestToOfferMs: Summary;
  offered: number;
  created: number;
}

const SETTINGS: DispatchSettings = { radiusM: 5000, offerTimeoutMs: 600_000, maxAttempts: 10, staleMs: 3_600_000, speedMps: 8.3, searchWindowMs: 60_000, maxRadiusM: 5000, batchWindowMs: 1000 };

function fleetOf(o: AssignmentOptions): FleetRegistry {
  const fleet = new FleetRegistry({ cities: [{ name: 'world', timezone: 'UTC', boundary: null }], rebuildMs: 3_600_000, expireMs: 3_600_000, asyncRebuildMin: Infinity });
  const pts = cityPoints(o.drivers, o.seed);
  const now = Date.now();
  for (let i = 0; i < o.drivers; i++) {
    fleet.update(`d${i}`, pts[2 * i]!, pts[2 * i + 1]!, now, NaN, NaN);
    fleet.setStatus(`d${i}`, DriverStatus.available);
  }
  fleet.rebuildDirty();
  return fleet;
}

function jobDoc(id: string, lat: number, lng: number): JobDoc {
  const now = Date.now();
  return { rec: { id, state: 'dispatching', rider: 'r', driver: null, pickup: { lat, lng }, dropoff: null, product: 'taxi', city: 'world', created_ts: now, updated_ts: now, times: { dispatching: now } }, seq: 1, attempts: 0, offer: null, offerExpires: 0, tried: [], version: 1 };
}

export async function runAssignment(o: AssignmentOptions): Promise<AssignmentReport> {
  const fleet = fleetOf(o);
  const finder = new CandidateFinder(fleet, new BaselineEta(SETTINGS.speedMps));
  const lists = Array.from({ length: o.jobs }, newCandidateList);
  const solveMs: number[] = [];
  const batchMs: number[] = [];
  let columns = 0;
  let maxComp = 0;
  const skip = new Set<string>();
  for (let trial = 0; trial < o.trials + 3; trial++) {
    const pts = cityPoints(o.jobs, o.seed * 1000 + trial);
    const docs = Array.from({ length: o.jobs }, (_, j) => jobDoc(`j${j}`, pts[2 * j]!, pts[2 * j + 1]!));
    const t0 = performance.now();
    const now = Date.now();
    for (let j = 0; j < o.jobs; j++) finder.all(docs[j]!, SETTINGS, now, skip, SETTINGS.radiusM, lists[j]!);
    const g = { drivers: lists.map((l) => l.slots.subarray(0, l.n)), costs: lists.map((l) => l.etas.subarray(0, l.n)) };
    const t1 = performance.now();
    const choice = solveAssignment(g, UNASSIGNED_PENALTY_S);
    const t2 = performance.now();
    if (trial < 3) continue; // warm-up
    solveMs.push(t2 - t1);
    batchMs.push(t2 - t0);
    const cols = new Set<number>();
    for (const l of lists) for (let i = 0; i < l.n; i++) cols.add(l.slots[i]!);
    columns += cols.size;
    maxComp = Math.max(maxComp, largestComponent(g.drivers));
    if (choice.length !== o.jobs) throw new Error('bad assignment');
  }
  log(`assignment: solve p99 ${round(summarize(solveMs).p99)} ms, with candidates p99 ${round(summarize(batchMs).p99)} ms`);
  const lat = await requestToOffer(o, fleet);
  return {
    options: o, solveMs: summarize(solveMs), batchMs: summarize(batchMs), meanColumns: Math.round(columns / o.trials), maxComponentJobs: maxComp,
    requestToOfferMs: summarize(lat.ms), offered: lat.ms.length, created: lat.created,
  };
}

/** Jobs of the largest connected component (jobs linked by a shared candidate). */
function largestComponent(drivers: ReadonlyArray<ArrayLike<number>>): number {
  const owner = new Map<number, number>();
  const parent = drivers.map((_, j) => j);
  const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x]!)));
  drivers.forEach((ds, j) => {
    for (let i = 0; i < ds.length; i++) {
      const f = owner.get(ds[i]!);
      if (f === undefined) owner.set(ds[i]!, j);
      else parent[find(f)] = find(j);
    }
  });
  const size = new Map<number, number>();
  for (let j = 0; j < drivers.length; j++) size.set(find(j), (size.get(find(j)) ?? 0) + 1);
  return Math.max(0, ...size.values());
}

/** The batched policy on a real JobService: jobs at seeded random times and places; latency from creation to the offer frame. */
async function requestToOffer(o: AssignmentOptions, fleet: FleetRegistry): Promise<{ ms: number[]; created: number }> {
  const bus = new MemoryBus();
  const repo = new MemoryJobRepo();
  const timers = new MemoryTimers();
  const jobs = new JobService({
    fleet, repo, timers, store: new MemoryStorage(), eta: new BaselineEta(SETTINGS.speedMps), notifier: new BusNotifier(bus, 'deliver'), metrics: new Metrics(),
    logger: createLogger('silent'), dispatch: { ...SETTINGS, batchWindowMs: o.batchWindowMs }, cityDispatch: new Map(),
    policyFor: () => ({ policy: 'batched' }), lease: new MemoryLease(), nodeId: 'bench',
  });
  const createdAt = new Map<string, number>();
  const ms: number[] = [];
  await attachDeliveries(bus, 'deliver', [jobs, {
    toDriver: (_d, f) => {
      const frame = decodeFrame(f) as { t?: string; job?: string };
      const t = frame.t === 'offer' && frame.job ? createdAt.get(frame.job) : undefined;
      if (t !== undefined) {
        ms.push(performance.now() - t);
        createdAt.delete(frame.job!);
      }
    },
    jobChanged: () => {},
  }], (err) => log(String(err)));
  jobs.start();
  const r = rng(o.seed + 7);
  const end = performance.now() + o.latencyS * 1000;
  let created = 0;
  while (performance.now() < end) {
    await sleep(Math.max(0, -Math.log(1 - r()) * (1000 / o.rate)));
    const lat = 48.8566 + (r() - 0.5) * 0.1;
    const lng = 2.3522 + (r() - 0.5) * 0.15;
    const t = performance.now();
    const rec = await jobs.create(`r${created}`, { lat, lng }, null, 'taxi');
    createdAt.set(rec.id, t);
    created++;
  }
  await sleep(o.batchWindowMs * 2 + 100);
  await jobs.stop();
  await timers.close();
  await repo.close();
  return { ms, created };
}
