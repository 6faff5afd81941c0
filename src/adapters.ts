// Picks the adapter of every port for the configuration: shared state in memory (embedded) or Redis/BullMQ
// (cluster), and storage in LMDB (embedded) or Cassandra.
import crypto from 'node:crypto';
import os from 'node:os';
import { StartError } from './config/config-error.js';
import type { Config } from './config/load-config.js';
import { describeTarget } from './config/redis-settings.js';
import type { Bus } from './bus/bus.js';
import { MemoryBus } from './bus/bus.js';
import type { Timers } from './bus/timers.js';
import { MemoryTimers, type StoredTimer } from './bus/timers.js';
import { RedisBus } from './bus/redis-bus.js';
import { MemoryLease } from './bus/lease.js';
import type { Lease } from './bus/lease.js';
import { RedisLease } from './bus/redis-lease.js';
import { BullmqTimers, timerQueuePrefix } from './bus/bullmq-timers.js';
import { CityTimers } from './bus/city-timers.js';
import { MemoryNodeRegistry } from './bus/node-registry.js';
import type { NodeRegistry } from './bus/node-registry.js';
import { RedisNodeRegistry } from './bus/redis-node-registry.js';
import { redisConnection, redisHealthy, waitReady } from './bus/redis-connection.js';
import type { RedisClient } from './bus/redis-connection.js';
import type { FleetRegistry } from './fleet/fleet-registry.js';
import type { FleetMirror } from './fleet/fleet-mirror.js';
import { NoopFleetMirror } from './fleet/fleet-mirror.js';
import { RedisFleetMirror } from './fleet/redis-fleet-mirror.js';
import type { StoredWindow } from './matching/experiment-windows.js';
import type { JobRepo } from './matching/job-repo.js';
import { MemoryJobRepo } from './matching/memory-job-repo.js';
import { RedisJobRepo } from './matching/redis-job-repo.js';
import type { ZoneQueue } from './matching/zone-queue.js';
import { MemoryZoneQueue } from './matching/zone-queue.js';
import { RedisZoneQueue } from './matching/redis-zone-queue.js';
import type { UnreplicatedReason } from './bus/replica-wait.js';
import type { Logger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import type { EtaStateStore } from './eta/eta-state-store.js';
import { FileEtaStateStore } from './eta/eta-state-store.js';
import { RedisEtaStateStore } from './eta/redis-eta-state-store.js';
import path from 'node:path';
import type { StateTable } from './storage/live-state.js';
import { LmdbState } from './storage/lmdb/lmdb-state.js';
import { LmdbCatalogStore } from './storage/lmdb/lmdb-catalog-store.js';
import { RedisCatalogStore } from './storage/redis-catalog-store.js';
import type { CatalogStore } from './storage/catalog-store.js';
import { LmdbStorage } from './storage/lmdb/lmdb-storage.js';
import { openCassandraStorage } from './storage/cassandra/cassandra-storage.js';
import type { Storage } from './storage/ports.js';

export interface SharedState {
  nodeId: string;
  bus: Bus;
  repo: JobRepo;
  timers: Timers;
  mirror: FleetMirror;
  /** Per-city leases (one batch solver per city). */
  lease: Lease;
  /** Airport zone queues: in memory (embedded), in Redis shared by every node (cluster). */
  zoneQueue: ZoneQueue;
  /** Where learned ETA state lives, and whether this node writes it. */
  etaStore: EtaStateStore;
  etaWriter: () => Promise<boolean>;
  /** Where experiment windows are written through (embedded mode's LMDB live state); absent in a cluster. */
  experimentWindows?: StateTable<StoredWindow>;
  /** Which nodes serve which cities (heartbeats): Redis in a cluster, this process's table when embedded. */
  nodes: NodeRegistry;
  /** Backend health for /readyz (name → up). */
  health(): Promise<Record<string, boolean>>;
  close(): Promise<void>;
}

/** Build the shared-state adapters. In cluster mode this waits for Redis (or throws a clear error). */
export async function sharedState(config: Config, fleet: FleetRegistry, logger: Logger, metrics: Metrics): Promise<SharedState> {
  const nodeId = config.nodeId ?? `${os.hostname()}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  const onTimerError = (err: unknown, kind: string): void => logger.error({ err, kind }, 'timer handler failed');
  if (!config.redis) {
    // Live jobs, claims and offer timers are written through to LMDB so a restart resumes them.
    const state = LmdbState.open(path.join(config.dataDir, 'state'), (err) => logger.error({ err }, 'live state not written'));
    // Restored timers wait at least one offer timeout after start-up: drivers get that long to reconnect.
    const timers = new MemoryTimers(state.table<StoredTimer>('timers'), config.dispatch.offerTimeoutMs);
    timers.onError = onTimerError;
    const repo = new MemoryJobRepo(config.finishedJobs, { docs: state.table('jobs'), offers: state.table('offers'), active: state.table('active') });
    if (repo.liveCount > 0) logger.info({ jobs: repo.liveCount }, 'live jobs resumed from the data dir');
    const bus = new MemoryBus();
    metrics.watchBus(bus);
    return {
      nodeId, bus, repo, timers, mirror: new NoopFleetMirror(), nodes: new MemoryNodeRegistry(config.nodeTtlMs), lease: new MemoryLease(), zoneQueue: new MemoryZoneQueue(), experimentWindows: state.table<StoredWindow>('experiment-windows'),
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
  const target = config.redis;
  const prefix = config.redisPrefix;
  const main = redisConnection(target, logger, 'main');
  const conns: RedisClient[] = [main];
  try {
    await waitReady(main, config.redisConnectTimeoutMs);
  } catch (e) {
    main.disconnect();
    throw redisStartError(target, e);
  }
  // Every connection comes from the same target: after a Sentinel failover each one finds the new primary;
  // on a Redis Cluster each is an ioredis Cluster routing every command to its slot's primary.
  const jobsConn = redisConnection(target, logger, 'jobs'); // job commits WAIT for replicas: a connection of their own
  const sharded = target.kind === 'cluster'; // sharded pub/sub on a Cluster (see RedisBus)
  const sub = redisConnection(target, logger, 'sub', true, sharded);
  const queueConn = redisConnection(target, logger, 'queue'); // timers WAIT for replicas too: not shared
  const workerConn = redisConnection(target, logger, 'worker', true);
  conns.push(jobsConn, sub, queueConn, workerConn);
  const bus = new RedisBus(main, sub, prefix, sharded);
  bus.onError = (err, channel) => logger.warn({ err: String(err), channel }, 'bus message failed');
  metrics.watchBus(bus);
  const onUnreplicated = unreplicatedReporter(config, logger, metrics);
  const repo = new RedisJobRepo(jobsConn, prefix, { retention: config.finishedJobs, durability: config.commitDurability, onUnreplicated });
  const timers = new CityTimers((city) => {
    const t = new BullmqTimers(queueConn, workerConn, timerQueuePrefix(prefix, city), undefined, config.commitDurability, onUnreplicated);
    t.onError = onTimerError;
    return t;
  });
  const mirror = new RedisFleetMirror({
    redis: main, bus, fleet, logger: logger.child({ c: 'mirror' }), prefix, nodeId, expireMs: config.expireMs,
    serves: (city) => config.serveCities.serves(city),
    metrics: {
      observeLag: (s) => metrics.mirrorLag.observe(s),
      sent: (n) => metrics.mirrorDrivers.inc({ dir: 'sent' }, n),
      received: (n) => metrics.mirrorDrivers.inc({ dir: 'received' }, n),
    },
  });
  const etaStore = new RedisEtaStateStore(main, prefix, nodeId);
  return {
    nodeId, bus, repo, timers, mirror, etaStore, lease: new RedisLease(main, prefix), zoneQueue: new RedisZoneQueue(main, prefix), nodes: new RedisNodeRegistry(main, prefix, config.nodeTtlMs),
    etaWriter: () => etaStore.isWriter(),
    // Down while any connection is between primaries (a failover) or Redis does not answer.
    health: async () => ({ redis: conns.every((c) => c.status === 'ready') && (await redisHealthy(main)) && (await repo.healthy()) }),
    close: async () => {
      await mirror.stop();
      await timers.close();
      await bus.close();
      for (const c of conns) c.disconnect();
    },
  };
}

/** The one-line start failure when Redis does not answer in time, naming the setting to look at. */
function redisStartError(target: NonNullable<Config['redis']>, e: unknown): StartError {
  const why = (e as Error).message;
  if (target.kind === 'sentinel' && /No such master/i.test(why)) {
    return new StartError(`REDIS_SENTINEL_NAME=${target.name}: the Sentinels at REDIS_SENTINELS answer but monitor no primary of that name (${why})`);
  }
  const via = target.kind === 'sentinel' ? 'cannot reach the Redis primary through Sentinel' : target.kind === 'cluster' ? 'cannot reach the Redis Cluster' : 'cannot reach Redis';
  // ioredis says only "Failed to refresh slots cache" when no node answers CLUSTER SLOTS: say what to check.
  const hint = target.kind === 'cluster' ? ' (check that the nodes listen there, run with cluster-enabled yes and are joined in one cluster, and REDIS_PASSWORD/REDIS_TLS)' : '';
  return new StartError(`${describeTarget(target)}: ${via}: ${why}${hint}; the wait is REDIS_CONNECT_TIMEOUT_MS`);
}

/** How often at most a node logs that job writes stood unreplicated, ms (the metric counts every one). */
const UNREPLICATED_LOG_MS = 10_000;

/** Counts unreplicated job writes and logs a warning at most every UNREPLICATED_LOG_MS. */
function unreplicatedReporter(config: Config, logger: Logger, metrics: Metrics): (reason: UnreplicatedReason, acked: number) => void {
  let lastLog = 0;
  let since = 0;
  return (reason, acked) => {
    metrics.redisUnreplicated.inc({ reason });
    since++;
    const now = Date.now();
    if (now - lastLog < UNREPLICATED_LOG_MS) return;
    const { replicas, timeoutMs } = config.commitDurability;
    logger.warn({ writes: since, acked, replicas, waitMs: timeoutMs },
      'job writes stood on the Redis primary without a replica acknowledging them: a failover now could lose them (the dispatch watchdog re-drives jobs whose state is lost)');
    lastLog = now;
    since = 0;
  };
}

/**
 * The catalog store (cities and zones): LMDB in `<data dir>/catalog` when embedded, Redis in a cluster
 * (a connection of its own). Opened before the fleet, which starts from the catalog's cities.
 */
export async function openCatalogStore(config: Config, logger: Logger): Promise<{ store: CatalogStore; close(): Promise<void> }> {
  if (!config.redis) {
    const store = LmdbCatalogStore.open(path.join(config.dataDir, 'catalog'));
    return { store, close: () => store.close() };
  }
  const conn = redisConnection(config.redis, logger, 'catalog');
  try {
    await waitReady(conn, config.redisConnectTimeoutMs);
  } catch (e) {
    conn.disconnect();
    throw redisStartError(config.redis, e);
  }
  return { store: new RedisCatalogStore(conn, config.redisPrefix), close: async () => conn.disconnect() };
}

/** History and job-event storage: Cassandra when CASSANDRA_CONTACT_POINTS is set, else LMDB in the data dir. */
export async function openStorage(config: Config, logger: Logger, metrics: Metrics): Promise<Storage> {
  if (config.cassandra) {
    return openCassandraStorage({ settings: config.cassandra, registry: metrics.registry, logger: logger.child({ c: 'storage' }), migrate: config.migrateOnStart });
  }
  return LmdbStorage.open(path.join(config.dataDir, 'lmdb'), { logger });
}
