// Composition root: picks adapters from config, wires ingest → fleet → matching → sockets, starts and stops.
import path from 'node:path';
import type { Config } from './config.js';
import { ConfigError } from './config.js';
import type { DispatchSettings } from './config.js';
import { TokenVerifier } from './auth/tokens.js';
import { loadOrCreateSecret } from './auth/secret-file.js';
import { MemoryTimers } from './bus/timers.js';
import { MemoryBus } from './bus/bus.js';
import { BusNotifier, attachDeliveries } from './bus/deliveries.js';
import { MemoryJobRepo } from './matching/memory-job-repo.js';
import { BaselineEta } from './eta/baseline.js';
import { FleetRegistry } from './fleet/fleet-registry.js';
import { Ingest } from './ingest/ingest.js';
import { JobService } from './matching/job-service.js';
import { createLogger } from './observability/logger.js';
import type { Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { CloseCodes } from './protocol/errors.js';
import { LmdbStorage } from './storage/lmdb-storage.js';
import type { Storage } from './storage/ports.js';
import { driverHandler } from './ws/driver-socket.js';
import { Hub } from './ws/hub.js';
import { registerRoutes } from './ws/http-routes.js';
import { opsHandler } from './ws/ops-socket.js';
import { riderHandler } from './ws/rider-socket.js';
import { createUwsApp, listen } from './ws/server.js';
import { registerSocket } from './ws/sockets.js';
import type { SocketDeps } from './ws/sockets.js';
import { registerStatic } from './ws/static-files.js';

export interface TaxiwayApp {
  port: number;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  fleet: FleetRegistry;
  jobs: JobService;
  ingest: Ingest;
  storage: Storage;
  hub: Hub;
  /** The HS256 secret in use (configured or generated). */
  secret: string;
  /** Stop accepting, close sockets with 1001, flush storage. Idempotent. */
  stop(): Promise<void>;
}

/** Build and start a taxiway node from validated config. */
export async function startApp(config: Config, opts: { logger?: Logger } = {}): Promise<TaxiwayApp> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  if (config.mode === 'cluster') {
    throw new ConfigError('REDIS_URL is set, but cluster mode is not available in this version yet: unset REDIS_URL to run embedded');
  }
  let secret = config.authSecret;
  if (!secret) {
    const s = loadOrCreateSecret(config.dataDir);
    secret = s.secret;
    logger.warn({ file: s.file }, s.created ? 'TAXIWAY_AUTH_SECRET not set: generated a secret and stored it in the data dir' : 'TAXIWAY_AUTH_SECRET not set: using the secret stored in the data dir');
  }
  const storage = await LmdbStorage.open(path.join(config.dataDir, 'lmdb'), { logger });
  const metrics = new Metrics();
  const fleet = new FleetRegistry({ cities: config.cities, rebuildMs: config.indexRebuildMs, expireMs: config.expireMs });
  const ingest = new Ingest(fleet, storage, metrics);
  const eta = new BaselineEta(config.dispatch.speedMps);
  const hub = new Hub(fleet, metrics);
  const cityDispatch = new Map<string, Partial<DispatchSettings>>();
  for (const c of config.cities) if (c.dispatch) cityDispatch.set(c.name, c.dispatch as Partial<DispatchSettings>);
  const bus = new MemoryBus();
  const repo = new MemoryJobRepo();
  const timers = new MemoryTimers();
  timers.onError = (err, kind) => logger.error({ err, kind }, 'timer handler failed');
  const jobs = new JobService({
    fleet, repo, timers, store: storage, eta, notifier: new BusNotifier(bus, 'deliver'), metrics,
    logger: logger.child({ c: 'jobs' }), dispatch: config.dispatch, cityDispatch,
  });
  await attachDeliveries(bus, 'deliver', [hub, jobs], (err) => logger.warn({ err }, 'malformed delivery message dropped'));
  ingest.onMove = (driver, _f, fix) => jobs.onDriverMove(driver, fix.lat, fix.lng, fix.hdg, fix.ts);
  fleet.onExpire = (ids) => ingest.forget(ids);

  let accepting = true;
  const verifier = new TokenVerifier(secret);
  const app = createUwsApp();
  const sdeps: SocketDeps = { verifier, hub, logger, metrics, maxBackpressureBytes: config.maxBackpressureBytes, accepting: () => accepting };
  registerSocket(app, 'driver', sdeps, driverHandler(sdeps, ingest, jobs, config.fixIntervalMs));
  registerSocket(app, 'rider', sdeps, riderHandler(sdeps, jobs));
  registerSocket(app, 'ops', sdeps, opsHandler(sdeps, fleet));
  registerStatic(app);
  registerRoutes(app, {
    verifier, logger, metrics, fleet, jobs, eta, history: storage, storage,
    staleMs: config.dispatch.staleMs, defaultRadiusM: config.dispatch.radiusM,
  });

  const gauges = setInterval(() => {
    for (const f of fleet.cities()) metrics.fleetDrivers.set({ city: f.name }, f.size);
  }, 1000);
  fleet.start();
  jobs.start();
  hub.start();
  const l = await listen(app, config.host, config.port);
  logger.info({ port: l.port, mode: config.mode, dataDir: config.dataDir, cities: config.cities.map((c) => c.name) }, 'taxiway listening');

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      accepting = false;
      l.close();
      clearInterval(gauges);
      hub.closeAll(CloseCodes.goingAway, 'server shutting down');
      hub.stop();
      jobs.stop();
      await timers.close();
      fleet.stop();
      ingest.flush();
      await storage.close();
      await repo.close();
      await bus.close();
      logger.info('taxiway stopped');
    })());

  return { port: l.port, config, logger, metrics, fleet, jobs, ingest, storage, hub, secret, stop };
}
