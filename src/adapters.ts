// Picks the adapter of every port for the configuration: shared state in memory (embedded) or Redis/BullMQ
// (cluster), and storage in LMDB (embedded) or Cassandra.
import crypto from 'node:crypto';
import os from 'node:os';
import type { Redis } from 'ioredis';
import { StartError } from './config/config-error.js';
import type { Config } from './config/load-config.js';
import { redactUrl } from './config/redis-url.js';
import type { Bus } from './bus/bus.js';
import { MemoryBus } from './bus/bus.js';
import type { Timers } from './bus/timers.js';
import { MemoryTimers, type StoredTimer } from './bus/timers.js';
import { RedisBus } from './bus/redis-bus.js';
import { BullmqTimers } from './bus/bullmq-timers.js';
import { redisConnection, waitReady } from './bus/redis-connection.js';
import type { FleetRegistry } from './fleet/fleet-registry.js';
import type { FleetMirror } from './fleet/fleet-mirror.js';
import { NoopFleetMirror } from './fleet/fleet-mirror.js';
import { RedisFleetMirror } from './fleet/redis-fleet-mirror.js';
import type { JobRepo } from './matching/job-repo.js';
import { MemoryJobRepo } from './matching/memory-job-repo.js';
import { RedisJobRepo } from './matching/redis-job-repo.js';
import type { Logger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import type { EtaStateStore } from './eta/eta-state-store.js';
import { FileEtaStateStore } from './eta/eta-state-store.js';
import { RedisEtaStateStore } from './eta/redis-eta-state-store.js';
import path from 'node:path';
import { LmdbState } from './storage/lmdb/lmdb-state.js';
import { LmdbStorage } from './storage/lmdb/lmdb-storage.js';
import { openCassandraStorage } from './storage/cassandra/cassandra-storage.js';
import type { Storage } from './storage/ports.js';

export interface SharedState {
  nodeId: string;
  bus: Bus;
  repo: JobRepo;
  timers: Timers;
  mirror: FleetMirror;
  /** Where learned ETA state lives, and whether this node writes it. */
  etaStore: EtaStateStore;
  etaWriter: () => Promise<boolean>;
  /** Backend health for /readyz (name → up). */
  health(): Promise<Record<string, boolean>>;
  close(): Promise<void>;
}

/** Build the shared-state adapters. In cluster mode this waits for Redis (or throws a clear error). */
export async function sharedState(config: Config, fleet: FleetRegistry, logger: Logger, metrics: Metrics): Promise<SharedState> {
  const nodeId = config.nodeId ?? `${os.hostname()}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  const onTimerError = (err: unknown, kind: string): void => logger.error({ err, kind }, 'timer handler failed');
  if (!config.redisUrl) {
    // Live jobs, claims and offer timers are written through to LMDB so a restart resumes them.
    const state = LmdbState.open(path.join(config.dataDir, 'state'), (err) => logger.error({ err }, 'live state not written'));
    // Restored timers wait at least one offer timeout after start-up: drivers get that long to reconnect.
    const timers = new MemoryTimers(state.table<StoredTimer>('timers'), config.dispatch.offerTimeoutMs);
    timers.onError = onTimerError;
    const repo = new MemoryJobRepo(undefined, { docs: state.table('jobs'), offers: state.table('offers'), active: state.table('active') });
    if (repo.liveCount > 0) logger.info({ jobs: repo.liveCount }, 'live jobs resumed from the data dir');
    const bus = new MemoryBus();
    metrics.watchBus(bus);
    return {
      nodeId, bus, repo, timers, mirror: new NoopFleetMirror(),
      etaStore: new FileEtaStateStore(path.join(config.dataDir, 'eta')),
      etaWriter: async () => true,
      health: async () => ({}),
      close: async () => {
        await timers.close();
        await repo.close();
        await bus.close();
        await state.close();
      },
    };
  }
  const url = config.redisUrl;
  const prefix = config.redisPrefix;
  const main = redisConnection(url, logger, 'main');
  const conns: Redis[] = [main];
  try {
    await waitReady(main, config.redisConnectTimeoutMs);
  } catch (e) {
    main.disconnect();
    throw new StartError(`REDIS_URL=${redactUrl(url)}: cannot reach Redis: ${(e as Error).message}; the wait is REDIS_CONNECT_TIMEOUT_MS`);
  }
  const sub = redisConnection(url, logger, 'sub', true);
  const queueConn = redisConnection(url, logger, 'queue');
  const workerConn = redisConnection(url, logger, 'worker', true);
  conns.push(sub, queueConn, workerConn);
  const bus = new RedisBus(main, sub, prefix);
  bus.onError = (err, channel) => logger.warn({ err: String(err), channel }, 'bus message failed');
  metrics.watchBus(bus);
  const repo = new RedisJobRepo(main, prefix);
  const timers = new BullmqTimers(queueConn, workerConn, prefix);
  timers.onError = onTimerError;
  const mirror = new RedisFleetMirror({
    redis: main, bus, fleet, logger: logger.child({ c: 'mirror' }), prefix, nodeId, expireMs: config.expireMs,
    metrics: {
      observeLag: (s) => metrics.mirrorLag.observe(s),
      sent: (n) => metrics.mirrorDrivers.inc({ dir: 'sent' }, n),
      received: (n) => metrics.mirrorDrivers.inc({ dir: 'received' }, n),
    },
  });
  const etaStore = new RedisEtaStateStore(main, prefix, nodeId);
  return {
    nodeId, bus, repo, timers, mirror, etaStore,
    etaWriter: () => etaStore.isWriter(),
    health: async () => ({ redis: await repo.healthy() }),
    close: async () => {
      await mirror.stop();
      await timers.close();
      await bus.close();
      for (const c of conns) c.disconnect();
    },
  };
}

/** History and job-event storage: Cassandra when CASSANDRA_CONTACT_POINTS is set, else LMDB in the data dir. */
export async function openStorage(config: Config, logger: Logger, metrics: Metrics): Promise<Storage> {
  if (config.cassandra) {
    return openCassandraStorage({ settings: config.cassandra, registry: metrics.registry, logger: logger.child({ c: 'storage' }), migrate: config.migrateOnStart });
  }
  return LmdbStorage.open(path.join(config.dataDir, 'lmdb'), { logger });
}
