// One node's job side over in-process adapters (job repo, timers, bus, lease) and a hand-moved clock, for dispatcher tests.
import { MemoryBus } from '../../src/bus/bus.js';
import { BusNotifier, attachDeliveries } from '../../src/bus/deliveries.js';
import { MemoryLease } from '../../src/bus/lease.js';
import { MemoryTimers } from '../../src/bus/timers.js';
import type { DispatchSettings } from '../../src/config/dispatch-settings.js';
import { BaselineEta } from '../../src/eta/baseline.js';
import { DriverStatus } from '../../src/fleet/driver-status.js';
import { FleetRegistry } from '../../src/fleet/fleet-registry.js';
import type { PolicySelector } from '../../src/matching/dispatch-policy.js';
import { JobService } from '../../src/matching/job-service.js';
import { MemoryJobRepo } from '../../src/matching/memory-job-repo.js';
import { createLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { decodeFrame } from '../../src/protocol/codec.js';
import type { JobRecord } from '../../src/protocol/job-record.js';
import { MemoryStorage } from '../../src/storage/memory-storage.js';
import { ManualClock } from './manual-clock.js';
import type { TapTest } from '../contract/storage-contract.js';

export const PICKUP = { lat: 43.7384, lng: 7.4246 };
/** Degrees of latitude per metre. */
export const DEG_PER_M = 1 / 111_195;
export const SETTINGS: DispatchSettings = {
  radiusM: 5000, offerTimeoutMs: 10_000, maxAttempts: 3, staleMs: 30_000, speedMps: 10, searchWindowMs: 0, maxRadiusM: 5000, batchWindowMs: 2000,
};

export type Frame = Record<string, unknown>;

/** What several "nodes" share: repository, durable timers, bus, lease and clock (a cluster in one process). */
export interface Backend { clock: ManualClock; repo: MemoryJobRepo; timers: MemoryTimers; bus: MemoryBus; lease: MemoryLease }

export function newBackend(): Backend {
  const clock = new ManualClock();
  return { clock, repo: new MemoryJobRepo(), timers: new MemoryTimers(null, 0, clock), bus: new MemoryBus(), lease: new MemoryLease(clock) };
}

export interface WorldOptions {
  settings?: Partial<DispatchSettings>;
  products?: string[];
  policyFor?: PolicySelector;
  /** Share another world's backend (a second node); a fresh one when absent. */
  backend?: Backend;
  nodeId?: string;
}

/** One node's job side and what its deliveries carried. */
export async function world(t: TapTest, o: WorldOptions = {}) {
  const b = o.backend ?? newBackend();
  const { clock, repo, timers, bus } = b;
  const fleet = new FleetRegistry({ cities: [{ name: 'world', timezone: 'UTC', boundary: null, products: o.products }], rebuildMs: 3_600_000, expireMs: 3_600_000 });
  const notifier = new BusNotifier(bus, 'deliver');
  const jobs = new JobService({
    fleet, repo, timers, store: new MemoryStorage(), eta: new BaselineEta(SETTINGS.speedMps), notifier, metrics: new Metrics(),
    logger: createLogger('silent'), dispatch: { ...SETTINGS, ...o.settings }, cityDispatch: new Map(), clock,
    policyFor: o.policyFor, lease: b.lease, nodeId: o.nodeId,
  });
  const toDriver = new Map<string, Frame[]>();
  const changes: JobRecord[] = [];
  await attachDeliveries(bus, 'deliver', [jobs, {
    toDriver: (d, f) => {
      const list = toDriver.get(d) ?? [];
      list.push(decodeFrame(f));
      toDriver.set(d, list);
    },
    jobChanged: (rec) => changes.push(structuredClone(rec)),
  }], (err) => t.fail(String(err)));
  jobs.start();
  t.teardown(async () => {
    await jobs.stop();
    if (!o.backend) {
      await timers.close();
      await repo.close();
    }
  });
  /** An available driver `metres` north of the pickup, with a fix from now. */
  const driver = (id: string, metres: number): void => {
    fleet.update(id, PICKUP.lat + metres * DEG_PER_M, PICKUP.lng, clock.now(), NaN, NaN);
    fleet.setStatus(id, DriverStatus.available);
  };
  const offers = (d: string): Frame[] => (toDriver.get(d) ?? []).filter((f) => f.t === 'offer');
  const revoked = (d: string): Frame[] => (toDriver.get(d) ?? []).filter((f) => f.t === 'offer_revoked');
  /** Let pending promise chains (repository, timers, later dispatch steps) run. */
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  /** Move time by `ms`, firing due timers, then settle. */
  const tick = async (ms: number): Promise<void> => {
    clock.advance(ms);
    await settle();
  };
  const create = (rider = 'r1', pickup = PICKUP): Promise<JobRecord> => jobs.create(rider, pickup, null, 'taxi');
  return { backend: b, clock, fleet, repo, jobs, driver, offers, revoked, settle, tick, create, changes, toDriver };
}
