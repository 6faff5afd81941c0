// Prometheus metrics (prom-client): one registry per app instance, so tests can run several apps.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CloseCodes } from '../protocol/errors.js';
import { ExperimentMetrics } from './experiment-metrics.js';
import { asyncOpenFds } from './open-fds.js';
import { TalliedHistogram } from './tallied-histogram.js';

/**
 * The traffic counters a bus keeps (the `Bus` port's `stats`), described here so observability never
 * imports the bus layer above it.
 */
export interface BusTraffic {
  readonly stats: { readonly published: number; readonly publishedBytes: number; readonly received: number };
}

export type FixTallyKey = 'accepted' | 'duplicate' | 'future' | 'jump' | 'overloaded' | 'rate_limited' | 'invalid';
/** Prefix of prom-client's default metrics: `taxiway_process_cpu_seconds_total`, `taxiway_nodejs_heap_size_used_bytes`, ... */
const DEFAULT_METRICS_PREFIX = 'taxiway_';
const REJECT_REASONS = ['duplicate', 'future', 'jump', 'overloaded', 'rate_limited', 'invalid'] as const;

export class Metrics {
  readonly registry = new Registry();
  /**
   * Per-fix tallies as plain numbers (a prom-client `inc` costs ~100 ns, at fix rate that matters),
   * copied into the two counters below whenever they are collected (scrape or `get()`).
   */
  readonly fixTally: Record<FixTallyKey, number> = { accepted: 0, duplicate: 0, future: 0, jump: 0, overloaded: 0, rate_limited: 0, invalid: 0 };
  private readonly fixReported: Record<FixTallyKey, number> = { accepted: 0, duplicate: 0, future: 0, jump: 0, overloaded: 0, rate_limited: 0, invalid: 0 };
  readonly fixesAccepted: Counter = new Counter({
    name: 'taxiway_fixes_accepted_total', help: 'Driver fixes accepted (stored in history)', registers: [this.registry],
    collect: () => this.syncFixes(),
  });
  readonly fixesRejected: Counter<'reason'> = new Counter({
    name: 'taxiway_fixes_rejected_total', help: 'Driver fixes rejected or dropped, by reason', labelNames: ['reason'] as const, registers: [this.registry],
    collect: () => this.syncFixes(),
  });

  private syncFixes(): void {
    const t = this.fixTally, r = this.fixReported;
    if (t.accepted > r.accepted) this.fixesAccepted.inc(t.accepted - r.accepted);
    for (const k of REJECT_REASONS) if (t[k] > r[k]) this.fixesRejected.inc({ reason: k }, t[k] - r[k]);
    Object.assign(r, t);
  }
  readonly jwksFetches = new Counter({
    name: 'taxiway_jwks_fetches_total', help: "Fetches of the identity provider's key set (TAXIWAY_JWKS_URL), by result: ok, failed (the old keys are kept)",
    labelNames: ['result'] as const, registers: [this.registry],
  });
  readonly jwksKeys = new Gauge({ name: 'taxiway_jwks_keys', help: 'Usable RS256/ES256 keys in the identity provider key set', registers: [this.registry] });
  readonly catalogVersion = new Gauge({ name: 'taxiway_catalog_version', help: 'Version of the newest city/zone catalog change applied on this node', registers: [this.registry] });
  readonly catalogChanges = new Counter({
    name: 'taxiway_catalog_changes_total', help: 'City and zone changes applied on this node (made here or on another node), by kind: city, zone',
    labelNames: ['kind'] as const, registers: [this.registry],
  });
  readonly zoneEvents = new Counter({
    name: 'taxiway_zone_events_total', help: 'Drivers entering or leaving zones, detected on this node from their fixes, by zone kind and ev: enter, exit',
    labelNames: ['kind', 'ev'] as const, registers: [this.registry],
  });
  readonly zoneQueueLength = new Gauge({
    name: 'taxiway_zone_queue_length', help: 'Drivers in each airport queue, as this node last read it (by zone id)',
    labelNames: ['zone'] as const, registers: [this.registry],
  });
  readonly zoneQueueJoins = new Counter({
    name: 'taxiway_zone_queue_joins_total', help: 'Airport queue joins asked by this node, by result: joined, already (place kept), full (refused: TAXIWAY_ZONE_QUEUE_MAX)',
    labelNames: ['result'] as const, registers: [this.registry],
  });
  readonly zoneQueueLeaves = new Counter({
    name: 'taxiway_zone_queue_leaves_total', help: 'Drivers taken out of airport queues by this node, by reason: exit, offline, busy (a job, or set busy), pruned (gone from the fleet), zone (deleted or no longer an airport queue)',
    labelNames: ['reason'] as const, registers: [this.registry],
  });
  readonly zoneQueueFrames = new Counter({ name: 'taxiway_zone_queue_frames_total', help: 'queue frames sent to driver sockets of this node', registers: [this.registry] });
  readonly zoneQueueOffers = new Counter({
    name: 'taxiway_zone_queue_offers_total', help: 'Dispatch steps of jobs picked up in an airport queue zone, by source: queue (its first eligible driver), fallback (no eligible driver queued: normal dispatch)',
    labelNames: ['source'] as const, registers: [this.registry],
  });
  readonly driverConfigFrames = new Counter({
    name: 'taxiway_driver_config_frames_total', help: 'config frames sent to driver sockets (after hello, on a city change of the driver, on a change of its city)',
    registers: [this.registry],
  });
  readonly cityRedirects = new Counter({
    name: 'taxiway_city_redirects_total', help: 'Requests and sockets sent to a node serving their city (TAXIWAY_SERVE_CITIES), by kind: http, driver, rider, and whether a URL was known (found: yes|no)',
    labelNames: ['kind', 'found'] as const, registers: [this.registry],
  });
  readonly jobRequestsRefused = new Counter({
    name: 'taxiway_job_requests_refused_total', help: 'Rider job requests (create, cancel) refused by a limit: rider_rate, ip_rate, open_jobs',
    labelNames: ['reason'] as const, registers: [this.registry],
  });
  /** Sources of storage's discarded duplicates (HistoryStore.duplicatesDiscarded), summed on collect. */
  private readonly storedDuplicateSources: Array<() => number> = [];
  private storedDuplicatesReported = 0;
  readonly fixDuplicatesStored: Counter = new Counter({
    name: 'taxiway_fix_duplicates_stored_total',
    help: 'Copies of an already stored (driver, ts) that storage discarded, first write winning (memory: at write; LMDB, Cassandra: at each track read that meets one)',
    registers: [this.registry],
    collect: () => {
      let n = 0;
      for (const f of this.storedDuplicateSources) n += f();
      if (n > this.storedDuplicatesReported) this.fixDuplicatesStored.inc(n - this.storedDuplicatesReported);
      this.storedDuplicatesReported = Math.max(n, this.storedDuplicatesReported);
    },
  });

  /** Adds a running total of duplicates discarded by storage (a history store's `duplicatesDiscarded`). */
  addStoredDuplicateSource(total: () => number): void {
    this.storedDuplicateSources.push(total);
  }

  readonly jobs = new Counter({ name: 'taxiway_jobs_total', help: 'Job state changes, by the state entered', labelNames: ['state'] as const, registers: [this.registry] });
  readonly offerLatency = new Histogram({
    name: 'taxiway_dispatch_offer_latency_seconds',
    help: 'Time from job creation (first offer) or the previous offer ending to the next offer being sent, by policy (includes the batch window and any search-window wait)',
    labelNames: ['policy'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly searchWaiting = new Gauge({ name: 'taxiway_dispatch_board_jobs', help: 'Jobs dispatching (waiting in their search window, queued for a batch, or holding an offer) as this node knows them from job deliveries', registers: [this.registry] });
  readonly batchSolve = new Histogram({
    name: 'taxiway_dispatch_batch_seconds', help: 'Time of one batched-policy tick on the lease holder: load the pending jobs, find candidates, solve the assignment',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers: [this.registry],
  });
  readonly batchJobs = new Counter({ name: 'taxiway_dispatch_batch_jobs_total', help: 'Jobs in batched-policy assignments, by outcome (offered, unassigned, claim_failed)', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly opsSnapshots = new Counter({
    name: 'taxiway_ops_snapshots_total', help: 'Live-job snapshots (jobs frames) sent after an ops sub, by result: complete, truncated (more than TAXIWAY_OPS_SNAPSHOT_MAX_JOBS), failed (job repository unreadable)',
    labelNames: ['result'] as const, registers: [this.registry],
  });
  readonly opsSnapshotJobs = new Counter({ name: 'taxiway_ops_snapshot_jobs_total', help: 'Jobs sent in ops live-job snapshots', registers: [this.registry] });
  readonly wsConnections = new Gauge({ name: 'taxiway_ws_connections', help: 'Open WebSocket connections, by role', labelNames: ['role'] as const, registers: [this.registry] });
  /** Driver frames refused with `unavailable` while shedding: a plain tally (fix rate), added to wsBadFrames on collect. */
  shedFrames = 0;
  private shedReported = 0;
  /** Driver frames answered `err` `rate_limited` (fix budget spent): a plain tally, added to wsBadFrames on collect. */
  limitedFrames = 0;
  private limitedReported = 0;
  readonly wsBadFrames: Counter<'role' | 'code'> = new Counter({
    name: 'taxiway_ws_bad_frames_total', help: 'Client frames answered with err', labelNames: ['role', 'code'] as const, registers: [this.registry],
    collect: () => {
      if (this.shedFrames > this.shedReported) this.wsBadFrames.inc({ role: 'driver', code: 'unavailable' }, this.shedFrames - this.shedReported);
      this.shedReported = this.shedFrames;
      if (this.limitedFrames > this.limitedReported) this.wsBadFrames.inc({ role: 'driver', code: 'rate_limited' }, this.limitedFrames - this.limitedReported);
      this.limitedReported = this.limitedFrames;
    },
  });
  readonly fleetDrivers = new Gauge({ name: 'taxiway_fleet_drivers', help: 'Drivers in the live fleet, by city', labelNames: ['city'] as const, registers: [this.registry] });
  readonly wsHandovers = new Counter({ name: 'taxiway_ws_driver_handovers_total', help: `Driver sockets closed (${CloseCodes.replaced}) because the driver connected to another node`, registers: [this.registry] });
  readonly posDropped = new Counter({ name: 'taxiway_ws_latest_only_replaced_total', help: 'Location frames replaced by a newer one for a slow subscriber', registers: [this.registry] });
  readonly wsActions = new Counter({
    name: 'taxiway_ws_actions_total',
    help: 'Async socket actions (job commands, rider sub), by outcome: run, dropped (socket closed before its turn), refused (pending-action limit, rate_limited)',
    labelNames: ['role', 'result'] as const, registers: [this.registry],
  });
  readonly wsRefused = new Counter({
    name: 'taxiway_ws_upgrades_refused_total', help: 'WebSocket upgrades refused with 429, by limit (upgrade_rate, sockets_per_ip)',
    labelNames: ['reason'] as const, registers: [this.registry],
  });
  readonly httpRequests = new Counter({ name: 'taxiway_http_requests_total', help: 'HTTP requests, by route and status', labelNames: ['route', 'status'] as const, registers: [this.registry] });
  /**
   * Time from the request reaching its route to the reply being written, by route pattern, method and
   * status class (`2xx`, `4xx`, ...), so the label set stays small. Buckets span a cached GET (~20 µs)
   * to a slow storage read. Tallied in typed arrays: it is observed on every request.
   */
  readonly httpDuration = new TalliedHistogram<'route' | 'method' | 'status'>({
    name: 'taxiway_http_request_duration_seconds',
    help: 'HTTP request handling time, by route pattern, method and status class',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly mirrorLag = new Histogram({
    name: 'taxiway_fleet_mirror_lag_seconds',
    help: 'Time from a fleet batch being published by one node to being applied on another (cluster mode)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly mirrorDrivers = new Counter({ name: 'taxiway_fleet_mirror_drivers_total', help: 'Driver states mirrored between nodes, by direction', labelNames: ['dir'] as const, registers: [this.registry] });
  readonly redisUnreplicated = new Counter({
    name: 'taxiway_redis_unreplicated_writes_total',
    help: 'Job writes and timer schedules that stood on the Redis primary without the replicas TAXIWAY_REDIS_WAIT_REPLICAS asks for, by reason (timeout: WAIT ran out; skipped: during the back-off after one)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** Switchback experiments' outcomes, by arm. */
  readonly experiments = new ExperimentMetrics(this.registry);
  private bus: BusTraffic | null = null;

  /** Export a bus's traffic counters (read at scrape time). */
  watchBus(bus: BusTraffic): void {
    this.bus = bus;
  }

  constructor() {
    const self = this;
    new Gauge({
      name: 'taxiway_bus_messages',
      help: 'Bus messages published and received by this node since start',
      labelNames: ['dir'] as const,
      registers: [this.registry],
      collect() {
        if (!self.bus) return;
        this.set({ dir: 'published' }, self.bus.stats.published);
        this.set({ dir: 'received' }, self.bus.stats.received);
      },
    });
    new Gauge({
      name: 'taxiway_bus_published_bytes',
      help: 'Bytes published on the bus by this node since start',
      registers: [this.registry],
      collect() {
        if (self.bus) this.set(self.bus.stats.publishedBytes);
      },
    });
    for (const r of ['driver', 'rider', 'ops'] as const) this.wsConnections.set({ role: r }, 0);
    for (const k of REJECT_REASONS) this.fixesRejected.inc({ reason: k }, 0);
    for (const r of ['upgrade_rate', 'sockets_per_ip'] as const) this.wsRefused.inc({ reason: r }, 0);
    // prom-client's default names already start with `process_` or `nodejs_`: the prefix is only ours.
    collectDefaultMetrics({ register: this.registry, prefix: DEFAULT_METRICS_PREFIX });
    asyncOpenFds(this.registry, DEFAULT_METRICS_PREFIX);
  }
}
