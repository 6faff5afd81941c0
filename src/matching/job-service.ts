// Jobs facade: composes the ledger, the dispatcher, the active-job cache and the commands behind one object for the sockets and routes.
import crypto from 'node:crypto';
import type { DispatchSettings } from '../config/dispatch-settings.js';
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import type { EtaModel } from '../eta/eta-model.js';
import type { Metrics } from '../observability/metrics.js';
import type { Logger } from '../observability/logger.js';
import type { JobRecord } from '../protocol/job-record.js';
import type { DriverStatusName, LatLng } from '../protocol/messages.js';
import type { JobStore } from '../storage/ports.js';
import type { Timers } from '../bus/timers.js';
import type { JobNotifier } from '../bus/deliveries.js';
import { MemoryLease } from '../bus/lease.js';
import type { Lease } from '../bus/lease.js';
import { systemClock } from '../util/clock.js';
import type { Clock } from '../util/clock.js';
import type { JobListQuery, JobPage, JobRepo } from './job-repo.js';
import { JobLedger } from './job-ledger.js';
import type { RecordedListener } from './job-ledger.js';
import { Dispatcher } from './dispatcher.js';
import { ActiveJobs } from './active-jobs.js';
import { JobCommands } from './job-commands.js';
import type { DriverKind } from './job-commands.js';
import type { PolicySelector } from './dispatch-policy.js';
import type { QueueCandidates } from './queue-candidates.js';

export { DISPATCH_CHECK_TIMER } from './dispatcher.js';
export type { RecordedListener };

export interface JobServiceDeps {
  fleet: FleetRegistry;
  repo: JobRepo;
  timers: Timers;
  store: JobStore;
  eta: EtaModel;
  notifier: JobNotifier;
  metrics: Metrics;
  logger: Logger;
  dispatch: DispatchSettings;
  /** Per-city dispatch overrides, read at each use (the live catalog, or a fixed Map in tests). */
  cityDispatch: { get(city: string): Partial<DispatchSettings> | undefined };
  /** Each called once per committed state change, on the node that made it (e.g. to learn from trips, to log). */
  recordedListeners?: readonly RecordedListener[];
  /** Time source; the system clock unless a test moves time by hand. */
  clock?: Clock;
  /** Most live jobs one rider may hold; unlimited when absent. */
  maxOpenJobsPerRider?: number;
  /**
   * The policy (and experiment arm) of a job from its city and creation time: the arm is recorded on the
   * job and its params apply to the job's dispatch. Absent: greedy everywhere, no experiments.
   */
  policyFor?: PolicySelector;
  /** Refuses a pickup where jobs may not start (a `no_pickup` zone); absent: none refused. */
  checkPickup?: (city: string, lat: number, lng: number) => void;
  /** Per-city batch-solver lease shared by the cluster; one of this process when absent. */
  lease?: Lease;
  /** This node's name (its lease token); a random one when absent. */
  nodeId?: string;
  /** Whether this node dispatches a city's jobs (TAXIWAY_SERVE_CITIES); absent: every city. */
  serves?: (city: string) => boolean;
  /** Airport queues: jobs picked up in an airport_queue zone are offered in queue order; absent: no queues. */
  airport?: QueueCandidates;
}

/**
 * The job side of a node. Parts, one job each: `ledger` (every change: compare-and-set, event, frames),
 * `dispatcher` (offers, expiry, watchdog), `active` (assigned-driver cache and `pos` relay), `commands`
 * (what riders and drivers ask). This class only wires them and forwards.
 */
export class JobService {
  readonly ledger: JobLedger;
  readonly dispatcher: Dispatcher;
  readonly active: ActiveJobs;
  readonly commands: JobCommands;

  constructor(private readonly d: JobServiceDeps) {
    const clock = d.clock ?? systemClock;
    this.ledger = new JobLedger({
      repo: d.repo, store: d.store, notifier: d.notifier, fleet: d.fleet, metrics: d.metrics, logger: d.logger, clock,
      recordedListeners: d.recordedListeners,
    });
    this.dispatcher = new Dispatcher({
      ledger: this.ledger, fleet: d.fleet, eta: d.eta, timers: d.timers, notifier: d.notifier, metrics: d.metrics,
      logger: d.logger, clock, settings: (city) => this.settings(city), repo: d.repo,
      policyFor: d.policyFor ?? (() => ({ policy: 'greedy' })), lease: d.lease ?? new MemoryLease(clock),
      nodeId: `${d.nodeId ?? 'node'}-${crypto.randomUUID()}`, serves: d.serves, airport: d.airport,
    });
    this.active = new ActiveJobs(d.notifier, d.eta, clock);
    this.commands = new JobCommands({
      ledger: this.ledger, dispatcher: this.dispatcher, active: this.active, repo: d.repo, store: d.store,
      fleet: d.fleet, eta: d.eta, notifier: d.notifier, clock, maxOpenJobsPerRider: d.maxOpenJobsPerRider, policyFor: d.policyFor, checkPickup: d.checkPickup,
    });
  }

  /** Register the timer handlers; driver events (local, and mirrored from other nodes) wake jobs waiting for a driver. */
  start(): void {
    this.dispatcher.start();
    this.d.fleet.addLocalChangeListener((id) => this.dispatcher.driverChanged(id));
    this.d.fleet.addRemoteMoveListener((id) => this.dispatcher.driverChanged(id));
  }

  stop(): Promise<void> {
    this.active.stop();
    return this.dispatcher.stop();
  }

  /** The city's dispatch settings, policy or experiments changed (live catalog): its searching jobs follow (Dispatcher.cityChanged). */
  cityChanged(city: string): void {
    this.dispatcher.cityChanged(city);
  }

  /** Add a listener of committed state changes (never replaces one added before). */
  addRecordedListener(l: RecordedListener): void {
    this.ledger.addRecordedListener(l);
  }

  /**
   * The dispatch settings of `city` now: the defaults with the city's overrides (the live catalog's, so a
   * change applies to the next use), and, for a job created at `createdMs` in an experiment window, its
   * arm's params on top.
   */
  settings(city: string, createdMs?: number): DispatchSettings {
    const o = this.d.cityDispatch.get(city);
    const base = o ? { ...this.d.dispatch, ...o } : this.d.dispatch;
    const params = createdMs === undefined ? undefined : this.d.policyFor?.(city, createdMs).params;
    return params ? { ...base, ...params } : base;
  }

  create(rider: string, pickup: LatLng, dropoff: LatLng | null, product?: string): Promise<JobRecord> {
    return this.commands.create(rider, pickup, dropoff, product);
  }

  /** A page of the jobs the repository holds (live ones and recently finished ones), newest first. */
  list(q: JobListQuery): Promise<JobPage> {
    return this.d.repo.list(q);
  }

  find(id: string): Promise<JobRecord | undefined> {
    return this.commands.find(id);
  }

  riderCancel(rider: string, id: string): Promise<JobRecord> {
    return this.commands.riderCancel(rider, id);
  }

  /** Returns the `job` frame the action caused, if any (see JobCommands.driverAction). */
  driverAction(driver: string, kind: DriverKind, id: string): Promise<Buffer | undefined> {
    return this.commands.driverAction(driver, kind, id);
  }

  /** See JobCommands.driverDisconnected: `back()` tells whether the driver has a new socket on this node. */
  driverDisconnected(driver: string, back?: () => boolean): Promise<void> {
    return this.commands.driverDisconnected(driver, back);
  }

  declineHeldOffer(driver: string): Promise<void> {
    return this.commands.declineHeldOffer(driver);
  }

  activeJobFrame(driver: string): Promise<Buffer | undefined> {
    return this.commands.activeJobFrame(driver);
  }

  setDriverStatus(driver: string, s: DriverStatusName): Promise<void> {
    return this.commands.setDriverStatus(driver, s);
  }

  onTrip(driver: string): boolean {
    return this.active.onTrip(driver);
  }

  onDriverMove(driver: string, lat: number, lng: number, hdg: number, ts: number): void {
    this.active.onDriverMove(driver, lat, lng, hdg, ts);
  }

  /** Snapshot frame of a job record (for a rider that just subscribed). */
  frameOf(rec: JobRecord): Buffer {
    return this.ledger.frameOf(rec);
  }

  /** Delivery hook: every job event on every node keeps the active-job cache and the dispatcher current. */
  jobChanged(rec: JobRecord): void {
    this.active.jobChanged(rec);
    this.dispatcher.jobChanged(rec);
  }
}
