// Composition root: picks adapters from config, wires ingest → fleet → matching → sockets, starts and stops.
import type { Config } from './config/load-config.js';
import { cityDispatchOverrides } from './config/cities.js';
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
import { LiveJobSnapshots } from './matching/live-job-snapshot.js';
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
import { JobRequestLimits } from './ws/job-request-limits.js';
import { opsHandler } from './ws/ops-socket.js';
import { riderHandler } from './ws/rider-socket.js';
import { createUwsApp, listen } from './ws/server.js';
import { registerSocket } from './ws/sockets.js';
import { IpLimiter } from './ws/conn-limits.js';
import type { SocketDeps } from './ws/sockets.js';
import { registerStatic } from './ws/static-files.js';
import { openStorage, sharedState } from './adapters.js';
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
  // A cluster node with an identity provider and no shared secret takes the provider's tokens only.
  const secret = config.mode === 'cluster' && !config.authSecret ? '' : nodeSecret(config.authSecret, config.dataDir, logger);
  const metrics = new Metrics();
  const jwks = config.idp ? await startJwks(config, logger, metrics) : undefined;
  const fleet = new FleetRegistry({ cities: config.cities, rebuildMs: config.indexRebuildMs, expireMs: config.expireMs });
  let shared: SharedState;
  try {
    shared = await sharedState(config, fleet, logger, metrics);
  } catch (e) {
    jwks?.stop();
    throw e;
  }
  let storage: Storage;
  try {
    storage = opts.storage ?? (await openStorage(config, logger, metrics));
  } catch (e) {
    jwks?.stop();
    await shared.close();
    throw e;
  }
  if (storage.duplicatesDiscarded) metrics.addStoredDuplicateSource(() => storage.duplicatesDiscarded!());
  const ingest = new Ingest(fleet, storage, metrics, { budget: config.fixBudget });
  const etaService = await EtaService.open({
    cities: config.cities, locator: fleet.locator, store: shared.etaStore, logger: logger.child({ c: 'eta' }),
    bus: shared.bus,
    fallbackSpeedMps: config.dispatch.speedMps, baseDir: config.citiesDir, isWriter: shared.etaWriter,
  });
  const eta = etaService.model;
  const notifier = new BusNotifier(shared.bus, DELIVERY_CHANNEL);
  const hub = new Hub(fleet, metrics);
  // One driver connection across the cluster; in embedded mode the per-node replacement is enough.
  if (config.mode === 'cluster') hub.announceDriversTo(notifier, shared.nodeId);
  const jobs = new JobService({
    fleet, repo: shared.repo, timers: shared.timers, store: storage, eta, notifier, metrics,
    logger: logger.child({ c: 'jobs' }), dispatch: config.dispatch, cityDispatch: cityDispatchOverrides(config.cities),
    maxOpenJobsPerRider: config.jobLimits.maxOpenPerRider,
    recordedListeners: [jobLogListener(logger.child({ c: 'jobs' })), tripLearning(fleet, etaService)],
  });
  await attachDeliveries(shared.bus, DELIVERY_CHANNEL, [hub, jobs], (err) => logger.warn({ err }, 'malformed delivery message dropped'));
  ingest.addMoveListener(fixTelemetry(jobs, etaService));
  fleet.addRemoteMoveListener(mirroredFixTelemetry(jobs, etaService));
  fleet.addExpireListener(forgetExpired([ingest, etaService]));
  await shared.mirror.start();

  let accepting = true;
  const verifier = new TokenVerifier(secret || undefined, undefined, jwks && config.idp && {
    keys: jwks, issuer: config.idp.issuer, audience: config.idp.audience, roleClaim: config.idp.roleClaim, clockSkewS: IDP_CLOCK_SKEW_S,
  });
  const app = createUwsApp();
  const sdeps: SocketDeps = {
    verifier, hub, logger, metrics, maxBackpressureBytes: config.maxBackpressureBytes, accepting: () => accepting,
    limits: config.wsLimits, ipLimiter: new IpLimiter(config.wsLimits),
  };
  registerSocket(app, 'driver', sdeps, driverHandler(sdeps, ingest, jobs, fleet, config.fixIntervalMs));
  registerSocket(app, 'rider', sdeps, riderHandler(sdeps, jobs));
  const snapshots = new LiveJobSnapshots({
    list: (q) => jobs.list(q), fleet, metrics, maxJobs: config.opsSnapshotMaxJobs,
    onError: (err) => logger.warn({ err }, 'ops live-job snapshot: job repository unreadable (sent with more: true)'),
  });
  registerSocket(app, 'ops', sdeps, opsHandler(sdeps, fleet, snapshots));
  registerStatic(app, { roadsGeojson: config.dashboardRoads, cities: config.cities });
  const health = async (): Promise<Record<string, boolean>> => ({ storage: await storage.healthy().catch(() => false), ...(await shared.health()) });
  registerRoutes(app, {
    verifier, logger, metrics, fleet, jobs, eta, history: storage, cors: new CorsPolicy(config.corsOrigins),
    health,
    staleMs: config.dispatch.staleMs, defaultRadiusM: config.dispatch.radiusM,
    served: new ServedArea(config.cities, fleet.locator), etaMaxDistanceM: config.etaMaxDistanceM,
    jobLimits: new JobRequestLimits(config.jobLimits, (reason) => metrics.jobRequestsRefused.inc({ reason })),
  });

  const stopGauges = startFleetGauges(fleet, metrics);
  fleet.start();
  jobs.start();
  hub.start();
  etaService.start();
  const stopParts = async (): Promise<void> => {
    stopGauges();
    jwks?.stop();
    hub.stop();
    jobs.stop();
    fleet.stop();
    ingest.flush();
    await etaService.stop();
    await shared.close();
    await storage.close();
  };
  let l;
  try {
    l = await listen(app, config.host, config.port);
  } catch (e) {
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
  logger.info({ port: l.port, healthPort: healthServer?.port, mode: config.mode, node: shared.nodeId, dataDir: config.dataDir, cities: config.cities.map((c) => c.name) }, 'taxiway listening');

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
  return { port, healthPort: healthServer?.port, config, logger, metrics, fleet, jobs, ingest, storage, shared, hub, secret, stop };
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
