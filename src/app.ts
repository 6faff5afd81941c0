// Composition root: picks adapters from config, wires ingest → fleet → matching → sockets, starts and stops.
import type { Config } from './config/load-config.js';
import { CityCatalog } from './catalog/city-catalog.js';
import { ZoneIndex } from './catalog/zone-index.js';
import { JwksKeys } from './auth/jwks.js';
import { IDP_CLOCK_SKEW_S, TokenVerifier } from './auth/tokens.js';
import { nodeSecret } from './auth/secret-file.js';
import { BusNotifier, DELIVERY_CHANNEL, attachDeliveries } from './bus/deliveries.js';
import { EtaService } from './eta/eta-service.js';
import { forgetExpired } from './fleet/expiry-forget.js';
import { startFleetGauges } from './fleet/fleet-gauges.js';
import { FleetRegistry } from './fleet/fleet-registry.js';
import { ServedArea } from './fleet/served-area.js';
import { Ingest } from './ingest/ingest.js';
import { JobService } from './matching/job-service.js';
import { jobLogListener } from './matching/job-log.js';
import { ExperimentOutcomes } from './matching/experiment-outcomes.js';
import { checkExperimentPolicies } from './matching/switchback.js';
import { LivePolicy, fallbackPolicy } from './matching/live-policy.js';
import type { SwitchbackSchedule } from './matching/switchback.js';
import { systemClock } from './util/clock.js';
import { LiveJobSnapshots } from './matching/live-job-snapshot.js';
import { ZoneWatch } from './matching/zone-watch.js';
import { zoneEventsOut } from './matching/zone-events.js';
import { airportQueues } from './matching/airport-queues.js';
import { fixTelemetry, mirroredFixTelemetry, tripLearning } from './matching/trip-telemetry.js';
import { createLogger } from './observability/logger.js';
import type { Logger } from './observability/logger.js';
import { startHealthServer } from './observability/health-server.js';
import type { HealthServer } from './observability/health-server.js';
import { Metrics } from './observability/metrics.js';
import { CloseCodes } from './protocol/errors.js';
import type { Storage } from './storage/ports.js';
import { driverHandler } from './ws/driver-socket.js';
import { CorsPolicy } from './ws/cors.js';
import { Hub } from './ws/hub.js';
import { registerRoutes } from './ws/http-routes.js';
import { registerAdminRoutes } from './ws/admin-routes.js';
import { DriverConfig } from './ws/driver-config.js';
import { registerExperimentRoutes } from './ws/experiment-routes.js';
import { JobRequestLimits } from './ws/job-request-limits.js';
import { opsHandler } from './ws/ops-socket.js';
import { riderHandler } from './ws/rider-socket.js';
import { createUwsApp, listen } from './ws/server.js';
import { registerSocket } from './ws/sockets.js';
import { IpLimiter } from './ws/conn-limits.js';
import type { SocketDeps } from './ws/sockets.js';
import { registerStatic } from './ws/static-files.js';
import { registerSdkFiles } from './ws/sdk-files.js';
import { openCatalogStore, openStorage, sharedState } from './adapters.js';
import os from 'node:os';
import { NodeDirectory } from './bus/node-directory.js';
import { checkServedCities } from './config/serve-cities.js';
import { CityRouting } from './ws/city-routing.js';
import type { SharedState } from './adapters.js';

export interface TaxiwayApp {
  port: number;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  fleet: FleetRegistry;
  jobs: JobService;
  ingest: Ingest;
  storage: Storage;
  shared: SharedState;
  hub: Hub;
  /** The live cities and zones (the admin API writes them). */
  catalog: CityCatalog;
  /** The HS256 secret in use (configured or generated); empty when HS256 tokens are off (a cluster with only TAXIWAY_JWKS_URL). */
  secret: string;
  /** Port of the health listener (TAXIWAY_HEALTH_PORT), when configured. */
  healthPort?: number;
  /** Stop accepting, close sockets with 1001, flush storage. Idempotent. */
  stop(): Promise<void>;
}

/** Build and start a taxiway node from validated config. */
export async function startApp(config: Config, opts: { logger?: Logger; storage?: Storage } = {}): Promise<TaxiwayApp> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  // Checked first: a policy name that is none fails the start naming its field, before anything opens.
  checkExperimentPolicies(config.cities);
  const defaultPolicy = fallbackPolicy(config.dispatchPolicy);
  // A cluster node with an identity provider and no shared secret takes the provider's tokens only.
  const secret = config.mode === 'cluster' && !config.authSecret ? '' : nodeSecret(config.authSecret, config.dataDir, logger);
  const metrics = new Metrics();
  const served = config.serveCities;
  const jwks = config.idp ? await startJwks(config, logger, metrics) : undefined;
  let catalogStore: Awaited<ReturnType<typeof openCatalogStore>>;
  let catalog: CityCatalog;
  try {
    catalogStore = await openCatalogStore(config, logger);
  } catch (e) {
    jwks?.stop();
    throw e;
  }
  try {
    // The cities file seeds an empty store only; from then on the catalog is the truth.
    const pollMs = config.mode === 'cluster' ? config.catalogPollMs : 0;
    catalog = await CityCatalog.open({ store: catalogStore.store, logger: logger.child({ c: 'catalog' }), pollMs }, config.cities);
    // Every city TAXIWAY_SERVE_CITIES names must be one of the live cities (a typo would serve nothing).
    checkServedCities(config.serveCities, catalog.cities());
  } catch (e) {
    jwks?.stop();
    await catalogStore.close();
    throw e;
  }
  const zoneIndex = new ZoneIndex(catalog);
  // Policies and experiments follow the catalog (not the file, which only seeds it): changes apply live.
  const livePolicy = new LivePolicy(catalog.cities(), defaultPolicy, systemClock);
  const policyFor = livePolicy.select;
  const fleet = new FleetRegistry({ cities: catalog.cities(), rebuildMs: config.indexRebuildMs, expireMs: config.expireMs });
  let shared: SharedState;
  try {
    shared = await sharedState(config, fleet, logger, metrics);
  } catch (e) {
    jwks?.stop();
    await catalogStore.close();
    throw e;
  }
  let storage: Storage;
  try {
    storage = opts.storage ?? (await openStorage(config, logger, metrics));
  } catch (e) {
    jwks?.stop();
    await shared.close();
    await catalogStore.close();
    throw e;
  }
  if (storage.duplicatesDiscarded) metrics.addStoredDuplicateSource(() => storage.duplicatesDiscarded!());
  const ingest = new Ingest(fleet, storage, metrics, { budget: config.fixBudget });
  const etaService = await EtaService.open({
    cities: catalog.cities(), locator: fleet.locator, store: shared.etaStore, logger: logger.child({ c: 'eta' }),
    bus: shared.bus, citySpeedMps: (city) => catalog.city(city)?.dispatch?.speedMps,
    fallbackSpeedMps: config.dispatch.speedMps, baseDir: config.citiesDir, isWriter: shared.etaWriter,
  });
  const eta = etaService.model;
  const notifier = new BusNotifier(shared.bus, DELIVERY_CHANNEL);
  const hub = new Hub(fleet, metrics);
  // One driver connection across the cluster; in embedded mode the per-node replacement is enough.
  if (config.mode === 'cluster') hub.announceDriversTo(notifier, shared.nodeId);
  const zoneWatch = new ZoneWatch(zoneIndex, config.zoneExitFixes);
  // Airport queues: membership from zone events and statuses, queue-first dispatch, `queue` frames to this node's drivers.
  const airport = airportQueues({
    queue: shared.zoneQueue, bus: shared.bus, zoneIndex, zoneWatch, fleet, eta, metrics, logger: logger.child({ c: 'queues' }), clock: systemClock,
    local: { has: (id) => hub.driverSocket(id) !== undefined, send: (id, f) => hub.toDriver(id, f), count: () => hub.counts().drivers },
    settings: config.zoneQueue,
  });
  const jobs = new JobService({
    fleet, repo: shared.repo, timers: shared.timers, store: storage, eta, notifier, metrics,
    logger: logger.child({ c: 'jobs' }), dispatch: config.dispatch, cityDispatch: { get: (city) => catalog.city(city)?.dispatch },
    maxOpenJobsPerRider: config.jobLimits.maxOpenPerRider, policyFor, lease: shared.lease, nodeId: shared.nodeId,
    serves: (city) => served.serves(city),
    checkPickup: zoneIndex.checkPickup, airport: airport.candidates,
    recordedListeners: [jobLogListener(logger.child({ c: 'jobs' })), tripLearning(fleet, etaService)],
  });
  const schedules = new Map<string, SwitchbackSchedule[]>();
  for (const sc of livePolicy.schedules()) schedules.set(sc.city, [...(schedules.get(sc.city) ?? []), sc]);
  const outcomes = new ExperimentOutcomes({
    schedules, fleet, metrics, clock: systemClock, windowsKept: config.experimentLimits.windowsKept, jobsTracked: config.experimentLimits.jobsTracked,
    persist: shared.experimentWindows,
  });
  await attachDeliveries(shared.bus, DELIVERY_CHANNEL, [hub, jobs, outcomes], (err) => logger.warn({ err }, 'malformed delivery message dropped'));
  ingest.addMoveListener(fixTelemetry(jobs, etaService));
  fleet.addRemoteMoveListener(mirroredFixTelemetry(jobs, etaService));
  // Zones: enter/exit from the fix stream; events to ops (every node), metrics and the log.
  ingest.addMoveListener(zoneWatch.moveListener);
  zoneWatch.addZoneListener(zoneEventsOut(notifier, metrics, logger.child({ c: 'zones' })));
  zoneWatch.addZoneListener(airport.keeper.zoneListener);
  fleet.addStatusListener(airport.keeper.statusListener);
  catalog.addChangeListener(airport.keeper.catalogListener);
  await airport.frames.start();
  fleet.addExpireListener(forgetExpired([ingest, etaService, zoneWatch, airport.keeper]));
  await shared.mirror.start();
  // Timers of the served cities run here (a city's queue is worked only by the nodes serving it).
  const servedNames = (): string[] => catalog.cities().map((c) => c.name).filter((c) => served.serves(c));
  shared.timers.serveCities(servedNames());
  // Catalog changes apply here in version order: the fleet's cities first, then what reads them.
  const driverConfig = new DriverConfig({
    catalog, fleet, hub, settings: (city) => jobs.settings(city), defaultFixIntervalMs: config.fixIntervalMs, onSent: () => metrics.driverConfigFrames.inc(),
  });
  metrics.catalogVersion.set(catalog.version);
  catalog.addChangeListener((e) => {
    metrics.catalogChanges.inc({ kind: e.kind });
    metrics.catalogVersion.set(catalog.version);
    if (e.kind !== 'city') return;
    fleet.applyCities(catalog.cities());
    etaService.cityChanged(e.key, e.after);
    shared.timers.serveCities(servedNames());
    shared.mirror.citiesChanged().catch((err) => logger.warn({ err }, 'fleet mirror: a new city not mirrored'));
    // Policy, experiments or dispatch settings: jobs searching in the city follow at once.
    const policyChanged = livePolicy.cityChanged(e.key, e.after);
    if (policyChanged || JSON.stringify(e.before?.dispatch) !== JSON.stringify(e.after?.dispatch)) jobs.cityChanged(e.key);
  });
  livePolicy.addScheduleListener((sc) => outcomes.trackSchedule(sc));
  catalog.addChangeListener(driverConfig.catalogListener);
  // City routing first: a driver handed over to another node gets no config frame of a city served elsewhere.
  const publicUrl = { value: config.publicUrl ?? '' };
  const directory = new NodeDirectory({
    registry: shared.nodes, heartbeatMs: config.nodeHeartbeatMs,
    self: () => ({ nodeId: shared.nodeId, url: publicUrl.value, cities: served.list() }),
    onError: (err) => logger.warn({ err: String(err) }, 'node registry heartbeat failed'),
  });
  const routing = new CityRouting({ served, urlFor: (city) => directory.urlFor(city), hub, metrics });
  fleet.addCityChangeListener(routing.cityChangeListener);
  fleet.addCityChangeListener(driverConfig.cityChangeListener);
  await catalog.attach(shared.bus);

  let accepting = true;
  const verifier = new TokenVerifier(secret || undefined, undefined, jwks && config.idp && {
    keys: jwks, issuer: config.idp.issuer, audience: config.idp.audience, roleClaim: config.idp.roleClaim, clockSkewS: IDP_CLOCK_SKEW_S,
  });
  const app = createUwsApp();
  const cors = new CorsPolicy(config.corsOrigins);
  const sdeps: SocketDeps = {
    verifier, hub, logger, metrics, maxBackpressureBytes: config.maxBackpressureBytes, accepting: () => accepting,
    limits: config.wsLimits, ipLimiter: new IpLimiter(config.wsLimits),
  };
  registerSocket(app, 'driver', sdeps, driverHandler(sdeps, ingest, jobs, fleet, config.fixIntervalMs, driverConfig, routing));
  registerSocket(app, 'rider', sdeps, riderHandler(sdeps, jobs, routing));
  const snapshots = new LiveJobSnapshots({
    list: (q) => jobs.list(q), fleet, metrics, maxJobs: config.opsSnapshotMaxJobs,
    onError: (err) => logger.warn({ err }, 'ops live-job snapshot: job repository unreadable (sent with more: true)'),
  });
  registerSocket(app, 'ops', sdeps, opsHandler(sdeps, fleet, snapshots));
  registerStatic(app, { roadsGeojson: config.dashboardRoads, cities: () => catalog.cities() });
  registerAdminRoutes(app, {
    verifier, logger, metrics, cors, catalog, fleet, jobs, maxBodyBytes: config.adminMaxBodyBytes, minFixIntervalMs: config.minFixIntervalMs,
    zoneQueue: shared.zoneQueue,
  });
  registerSdkFiles(app);
  const health = async (): Promise<Record<string, boolean>> => ({ storage: await storage.healthy().catch(() => false), ...(await shared.health()) });
  registerRoutes(app, {
    verifier, logger, metrics, fleet, jobs, eta, history: storage, cors,
    health,
    staleMs: config.dispatch.staleMs, defaultRadiusM: config.dispatch.radiusM, settings: (city) => jobs.settings(city),
    served: new ServedArea(() => catalog.cities(), fleet.locator), etaMaxDistanceM: config.etaMaxDistanceM,
    jobLimits: new JobRequestLimits(config.jobLimits, (reason) => metrics.jobRequestsRefused.inc({ reason })),
    routing,
  });
  registerExperimentRoutes(app, { verifier, logger, metrics, cors, outcomes });

  const stopGauges = startFleetGauges(fleet, metrics);
  fleet.start();
  jobs.start();
  hub.start();
  etaService.start();
  outcomes.start();
  catalog.start();
  const stopParts = async (): Promise<void> => {
    await directory.stop();
    stopGauges();
    airport.frames.stop();
    airport.keeper.stop();
    await catalog.stop();
    outcomes.stop();
    jwks?.stop();
    hub.stop();
    await jobs.stop();
    fleet.stop();
    ingest.flush();
    await etaService.stop();
    await shared.close();
    await storage.close();
    await catalogStore.close();
  };
  let l;
  try {
    l = await listen(app, config.host, config.port);
  } catch (e) {
    await stopParts();
    throw e;
  }
  // The registry entry needs the port (PORT=0 picks one): written once listening, before the node reports ready.
  publicUrl.value = config.publicUrl ?? defaultPublicUrl(config.host, l.port);
  try {
    await directory.start();
  } catch (e) {
    l.close();
    await stopParts();
    throw e;
  }
  let healthServer: HealthServer | null = null;
  if (config.health) {
    try {
      healthServer = await startHealthServer({ host: config.host, ...config.health, metrics, health });
    } catch (e) {
      l.close();
      await stopParts();
      throw e;
    }
  }
  logger.info({ port: l.port, healthPort: healthServer?.port, mode: config.mode, node: shared.nodeId, url: publicUrl.value, serves: served.list(), dataDir: config.dataDir, cities: catalog.cities().map((c) => c.name), catalogVersion: catalog.version }, 'taxiway listening');

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      accepting = false;
      l.close();
      await healthServer?.close();
      hub.closeAll(CloseCodes.goingAway, 'server shutting down');
      await stopParts();
      logger.info('taxiway stopped');
    })());

  const port = l.port;
  return { port, healthPort: healthServer?.port, config, logger, metrics, fleet, jobs, ingest, storage, shared, hub, catalog, secret, stop };
}

/** `http://<host>:<port>`, the machine's name standing for a wildcard listen address. */
function defaultPublicUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' || host === '' ? os.hostname() : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

/** Fetch the identity provider's key set before listening (the start fails naming TAXIWAY_JWKS_URL), then keep it fresh. */
async function startJwks(config: Config, logger: Logger, metrics: Metrics): Promise<JwksKeys> {
  const idp = config.idp!;
  const log = logger.child({ c: 'jwks' });
  const keys = new JwksKeys({
    url: idp.jwksUrl, refreshMs: idp.refreshMs, minRefetchMs: idp.refetchMinMs, timeoutMs: idp.fetchTimeoutMs,
    onFetch: (r) => {
      metrics.jwksFetches.inc({ result: r.ok ? 'ok' : 'failed' });
      if (r.ok) {
        metrics.jwksKeys.set(r.keys);
        log.debug({ keys: r.keys }, 'key set fetched');
      } else log.warn({ error: r.error }, 'key set fetch failed: keeping the previous keys');
    },
  });
  await keys.start();
  log.info({ url: idp.jwksUrl, keys: keys.size, issuer: idp.issuer, audience: idp.audience, roleClaim: idp.roleClaim }, 'identity provider tokens accepted');
  return keys;
}
