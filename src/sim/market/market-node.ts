// One taxiway node's matching side for the simulator: the real JobService (ledger, dispatcher), memory adapters and fleet, on a virtual clock, no sockets.
import { MemoryTimers } from '../../bus/timers.js';
import type { JobNotifier } from '../../bus/deliveries.js';
import type { CityDef } from '../../config/cities.js';
import { DISPATCH_ENV } from '../../config/dispatch-settings.js';
import type { DispatchSettings } from '../../config/dispatch-settings.js';
import { SETTINGS } from '../../config/settings.js';
import type { EtaModel } from '../../eta/eta-model.js';
import { FleetRegistry } from '../../fleet/fleet-registry.js';
import type { PolicySelector } from '../../matching/dispatch-policy.js';
import { JobService } from '../../matching/job-service.js';
import type { JobServiceDeps } from '../../matching/job-service.js';
import { MemoryJobRepo } from '../../matching/memory-job-repo.js';
import { createLogger } from '../../observability/logger.js';
import { Metrics } from '../../observability/metrics.js';
import type { JobRecord } from '../../protocol/job-record.js';
import { MemoryStorage } from '../../storage/memory-storage.js';
import type { VirtualClock } from '../../util/virtual-clock.js';

/** The dispatch settings a node gets without configuration (the flag table's defaults). */
export function defaultDispatchSettings(): DispatchSettings {
  const out = {} as Record<keyof DispatchSettings, number>;
  for (const [k, env] of Object.entries(DISPATCH_ENV)) out[k as keyof DispatchSettings] = SETTINGS[env].def;
  return out as DispatchSettings;
}

/** What the simulated world hears from the node: frames for drivers and committed job changes. */
export interface NodeListener {
  toDriver(driver: string, frame: Buffer): void;
  jobChanged(rec: JobRecord): void;
}

export interface MarketNodeOptions {
  city: string;
  timeZone: string;
  clock: VirtualClock;
  eta: EtaModel;
  policyFor: PolicySelector;
  listener: NodeListener;
  dispatch?: Partial<DispatchSettings>;
}

/**
 * The matching side of an embedded node, composed as src/app.ts composes it but with the virtual clock in
 * every part that reads time (timers, ledger, dispatcher, job repository) and the notifier delivering
 * straight to the simulated world instead of the bus. The city is a catch-all (boundary null): the
 * demand decides where jobs are. The fleet rebuilds its index only when `rebuild()` is called, and always
 * in place (never on the worker thread), so a run is deterministic.
 */
export class MarketNode {
  readonly fleet: FleetRegistry;
  readonly jobs: JobService;
  readonly repo: MemoryJobRepo;
  private readonly timers: MemoryTimers;

  constructor(o: MarketNodeOptions) {
    const city: CityDef = { name: o.city, timezone: o.timeZone, boundary: null };
    // Rebuild and expiry timers are never started (start() is not called): the simulator drives rebuilds.
    this.fleet = new FleetRegistry({ cities: [city], rebuildMs: 1000, expireMs: 3_600_000, asyncRebuildMin: Infinity });
    this.repo = new MemoryJobRepo({}, null, o.clock);
    this.timers = new MemoryTimers(null, 0, o.clock);
    let jobs: JobService | undefined;
    const notifier: JobNotifier = {
      toDriver: (d, f) => o.listener.toDriver(d, f),
      jobChanged: (rec) => {
        jobs!.jobChanged(rec); // what every node's delivery does: keep the dispatcher's and active-job caches current
        o.listener.jobChanged(rec);
      },
      jobPos: () => {},
      jobPosEnd: () => {},
      driverOpened: () => {},
      toOps: () => {},
    };
    const logger = createLogger('silent');
    this.timers.onError = (err, kind) => logger.error({ err, kind }, 'timer handler failed');
    // Not a literal: `policyFor` reaches the Dispatcher once JobServiceDeps takes it (issue #13 item 3);
    // until then only greedy runs, which is what the Dispatcher does without it (see sim-policies.ts).
    const deps: JobServiceDeps & { policyFor: PolicySelector } = {
      fleet: this.fleet, repo: this.repo, timers: this.timers, store: new MemoryStorage(), eta: o.eta, notifier,
      metrics: new Metrics(), logger, dispatch: { ...defaultDispatchSettings(), ...o.dispatch }, cityDispatch: new Map(),
      clock: o.clock, policyFor: o.policyFor,
    };
    jobs = new JobService(deps);
    this.jobs = jobs;
    jobs.start();
  }

  /** Rebuild the fleet's spatial index over the drivers' current positions (synchronous). */
  rebuild(): void {
    this.fleet.rebuildDirty();
  }

  async close(): Promise<void> {
    await this.jobs.stop(); // a promise once the dispatcher has batch loops to stop (issue #13 item 3)
    await this.timers.close();
    await this.repo.close();
  }
}
