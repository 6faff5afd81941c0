// Typed configuration, read once at startup from the environment and flags, validated with messages naming the setting.
import fs from 'node:fs';
import path from 'node:path';
import type { CassandraSettings } from './cassandra-options.js';
import { cassandraSettingsFromEnv } from './cassandra-settings.js';
import { WORLD_CITY, loadCities } from './cities.js';
import type { CityDef } from './cities.js';
import { ConfigError } from './config-error.js';
import { corsOrigins } from './cors-origins.js';
import { idpFromEnv } from './idp-settings.js';
import type { IdpSettings } from './idp-settings.js';
import type { EnvSource } from './config-error.js';
import type { DispatchSettings } from './dispatch-settings.js';
import type { FinishedRetention, JobLimitSettings } from './job-limit-settings.js';
import { fixBudgetFromEnv } from './fix-budget.js';
import type { FixBudget } from './fix-budget.js';
import type { WsLimits } from './ws-limits.js';
import { checkRedisPrefix, commitDurabilityFromEnv, redisTargetFromEnv } from './redis-settings.js';
import type { CommitDurability, RedisTarget } from './redis-settings.js';
import { SETTINGS, checkNumber, flagSetting, numberSetting } from './settings.js';
import { publicUrlFromEnv, servedCitiesFromEnv } from './serve-cities.js';
import type { ServedCities } from './serve-cities.js';

export interface Config {
  host: string;
  port: number;
  /** Health listener on a worker thread (TAXIWAY_HEALTH_PORT), or null when off. */
  health: { port: number; stallMs: number; refreshMs: number } | null;
  /** HS256 secret; undefined means "generate one in the data dir" (embedded mode only). */
  authSecret?: string;
  /** RS256/ES256 tokens of an identity provider (TAXIWAY_JWKS_URL); undefined: HS256 tokens only. */
  idp?: IdpSettings;
  dataDir: string;
  logLevel: string;
  cities: CityDef[];
  /** Most live jobs in the `jobs` snapshot an ops `sub` gets first (TAXIWAY_OPS_SNAPSHOT_MAX_JOBS). */
  opsSnapshotMaxJobs: number;
  /** GeoJSON road lines drawn behind the ops dashboard (optional; the demo sets it). */
  dashboardRoads?: string;
  /** Folder of the cities file (ETA seed paths are relative to it). */
  citiesDir: string;
  dispatch: DispatchSettings;
  /** TAXIWAY_DISPATCH_POLICY: the policy of cities whose `dispatch.policy` names none (checked against the policy names when the node starts). */
  dispatchPolicy: string;
  /** How often the server wants fixes from drivers, ms (sent in `hello`). */
  fixIntervalMs: number;
  /** Per-driver fix budget (sustained rate and burst); undefined: none. */
  fixBudget?: FixBudget;
  /** Largest admin API body, bytes. */
  adminMaxBodyBytes: number;
  /** Cluster: how often the catalog version is polled, ms. */
  catalogPollMs: number;
  /** Consecutive fixes outside its zone before a driver exits it. */
  zoneExitFixes: number;
  /** Airport queues: most drivers a queue holds; least ms between queue frames to a driver; least ms between length-only frames. */
  zoneQueue: { maxLength: number; frameMs: number; lengthFrameMs: number; offlineGraceMs: number };
  /** Shortest fix interval a city may ask of its drivers (the fix budget covers it), ms; 0 without a budget. */
  minFixIntervalMs: number;
  /** A driver silent this long is removed from the live fleet, ms. */
  expireMs: number;
  /** How often kdbush snapshots are rebuilt when positions changed, ms. */
  indexRebuildMs: number;
  /** Per-socket send buffer limit before latest-only delivery kicks in, bytes. */
  maxBackpressureBytes: number;
  /** Limits against hostile clients: pending actions per socket, upgrades and open sockets per IP. */
  wsLimits: WsLimits;
  /** Where Redis is (REDIS_URL or REDIS_SENTINELS, checked at load); set means cluster mode. */
  redis?: RedisTarget;
  /** What each job commit waits for: WAIT for replicas, bounded (TAXIWAY_REDIS_WAIT_*). */
  commitDurability: CommitDurability;
  /** How long the start waits for Redis to answer before it fails, ms. */
  redisConnectTimeoutMs: number;
  /** Prefix of every Redis key and channel, so deployments (and tests) can share one Redis. */
  redisPrefix: string;
  /** This node's id in cluster mode (default: host-pid-random). */
  nodeId?: string;
  /** The cities this node serves (TAXIWAY_SERVE_CITIES; checked against the live cities at start). */
  serveCities: ServedCities;
  /** The URL clients reach this node at (TAXIWAY_PUBLIC_URL); undefined: derived from the listen address. */
  publicUrl?: string;
  /** Node registry heartbeat and entry lifetime, ms. */
  nodeHeartbeatMs: number;
  nodeTtlMs: number;
  /** Cassandra storage (history, job events) when CASSANDRA_CONTACT_POINTS is set; LMDB otherwise. */
  cassandra?: CassandraSettings;
  /** Create/update the Cassandra schema at startup (TAXIWAY_MIGRATE=1; production runs `taxiway migrate`). */
  migrateOnStart: boolean;
  /**
   * Browser origins allowed to call the HTTP API cross-origin (CORS): exact origins such as
   * `https://app.example.com`, or `['*']` for any. Empty (the default): no CORS headers at all.
   */
  corsOrigins: readonly string[];
  /**
   * Farthest a `GET /v1/eta` point may lie from every served city, and farthest `from` may lie from
   * `to`, metres (straight line). Beyond it the request is refused as a probable lat/lng swap.
   */
  etaMaxDistanceM: number;
  /** Limits on riders' job requests (create and cancel). */
  jobLimits: JobLimitSettings;
  /** How long and how many final jobs the job repository keeps beside the live ones. */
  finishedJobs: FinishedRetention;
  /** Memory bounds of the switchback experiments' outcomes (matching/experiment-outcomes.ts). */
  experimentLimits: { windowsKept: number; jobsTracked: number };
  mode: 'embedded' | 'cluster';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function dashboardRoads(file: string | undefined): string | undefined {
  if (!file) return undefined;
  if (!fs.existsSync(file)) throw new ConfigError(`TAXIWAY_DASHBOARD_ROADS=${file}: file not found`);
  return path.resolve(file);
}

/** Read and validate the whole configuration from `src` (see `readEnvironment`). Throws ConfigError naming the setting. */
export function loadConfig(src: EnvSource): Config {
  const redis = redisTargetFromEnv(src);
  const secret = src.TAXIWAY_AUTH_SECRET || undefined;
  if (secret !== undefined && secret.length < 16) throw new ConfigError('TAXIWAY_AUTH_SECRET must be at least 16 characters');
  const mode = redis ? 'cluster' : 'embedded';
  const idp = idpFromEnv(src);
  if (mode === 'cluster' && !secret && !idp) throw new ConfigError('TAXIWAY_AUTH_SECRET is required in cluster mode (every node must share it), unless TAXIWAY_JWKS_URL is set (then HS256 tokens are refused)');
  const level = src.LOG_LEVEL || SETTINGS.LOG_LEVEL.def;
  if (!LOG_LEVELS.includes(level)) throw new ConfigError(`LOG_LEVEL=${level}: expected ${LOG_LEVELS.join('|')}`);
  const fixIntervalMs = numberSetting(src, 'TAXIWAY_FIX_INTERVAL_MS');
  const dataDir = path.resolve(src.TAXIWAY_DATA_DIR || SETTINGS.TAXIWAY_DATA_DIR.def);
  const fixBudget = fixBudgetFromEnv(src, fixIntervalMs);
  const minFixIntervalMs = fixBudget ? Math.ceil(1000 / fixBudget.ratePerS) : 0;
  return {
    host: src.HOST || SETTINGS.HOST.def,
    port: numberSetting(src, 'PORT'),
    health: healthFromEnv(src),
    authSecret: secret,
    idp,
    dataDir,
    logLevel: level,
    cities: src.TAXIWAY_CITIES ? loadCities(src.TAXIWAY_CITIES, { minFixIntervalMs }) : [WORLD_CITY],
    opsSnapshotMaxJobs: numberSetting(src, 'TAXIWAY_OPS_SNAPSHOT_MAX_JOBS'),
    dashboardRoads: dashboardRoads(src.TAXIWAY_DASHBOARD_ROADS),
    citiesDir: src.TAXIWAY_CITIES ? path.dirname(path.resolve(src.TAXIWAY_CITIES)) : process.cwd(),
    dispatch: {
      radiusM: numberSetting(src, 'TAXIWAY_SEARCH_RADIUS_M'),
      offerTimeoutMs: numberSetting(src, 'TAXIWAY_OFFER_TIMEOUT_MS'),
      maxAttempts: numberSetting(src, 'TAXIWAY_MAX_ATTEMPTS'),
      staleMs: numberSetting(src, 'TAXIWAY_STALE_MS'),
      speedMps: numberSetting(src, 'TAXIWAY_ETA_SPEED_MPS'),
      searchWindowMs: numberSetting(src, 'TAXIWAY_SEARCH_WINDOW_MS'),
      maxRadiusM: numberSetting(src, 'TAXIWAY_MAX_RADIUS_M'),
      batchWindowMs: numberSetting(src, 'TAXIWAY_BATCH_WINDOW_MS'),
    },
    dispatchPolicy: src.TAXIWAY_DISPATCH_POLICY || SETTINGS.TAXIWAY_DISPATCH_POLICY.def,
    fixIntervalMs,
    fixBudget,
    minFixIntervalMs,
    adminMaxBodyBytes: numberSetting(src, 'TAXIWAY_ADMIN_MAX_BODY_BYTES'),
    catalogPollMs: numberSetting(src, 'TAXIWAY_CATALOG_POLL_MS'),
    zoneExitFixes: numberSetting(src, 'TAXIWAY_ZONE_EXIT_FIXES'),
    zoneQueue: {
      maxLength: numberSetting(src, 'TAXIWAY_ZONE_QUEUE_MAX'),
      frameMs: numberSetting(src, 'TAXIWAY_QUEUE_FRAME_MS'),
      lengthFrameMs: numberSetting(src, 'TAXIWAY_QUEUE_LENGTH_FRAME_MS'),
      offlineGraceMs: numberSetting(src, 'TAXIWAY_QUEUE_OFFLINE_GRACE_MS'),
    },
    expireMs: numberSetting(src, 'TAXIWAY_EXPIRE_MS'),
    indexRebuildMs: numberSetting(src, 'TAXIWAY_INDEX_REBUILD_MS'),
    maxBackpressureBytes: numberSetting(src, 'TAXIWAY_MAX_BACKPRESSURE_BYTES'),
    wsLimits: {
      maxPendingActions: numberSetting(src, 'TAXIWAY_WS_MAX_PENDING_ACTIONS'),
      maxSocketsPerIp: numberSetting(src, 'TAXIWAY_WS_MAX_SOCKETS_PER_IP'),
      upgradesPerSecPerIp: numberSetting(src, 'TAXIWAY_WS_UPGRADES_PER_SEC_PER_IP'),
    },
    redis,
    commitDurability: commitDurabilityFromEnv(src, redis),
    redisConnectTimeoutMs: numberSetting(src, 'REDIS_CONNECT_TIMEOUT_MS'),
    redisPrefix: checkRedisPrefix(src.TAXIWAY_REDIS_PREFIX ?? SETTINGS.TAXIWAY_REDIS_PREFIX.def),
    nodeId: src.TAXIWAY_NODE_ID || undefined,
    serveCities: servedCitiesFromEnv(src),
    publicUrl: publicUrlFromEnv(src),
    nodeHeartbeatMs: numberSetting(src, 'TAXIWAY_NODE_HEARTBEAT_MS'),
    nodeTtlMs: nodeTtl(src),
    cassandra: src.CASSANDRA_CONTACT_POINTS ? cassandraSettingsFromEnv(src, dataDir) : undefined,
    migrateOnStart: flagSetting(src, 'TAXIWAY_MIGRATE'),
    corsOrigins: corsOrigins(src.TAXIWAY_CORS_ORIGINS),
    etaMaxDistanceM: numberSetting(src, 'TAXIWAY_ETA_MAX_DISTANCE_M'),
    jobLimits: {
      perRider: { ratePerS: numberSetting(src, 'TAXIWAY_JOB_RATE_PER_RIDER'), burst: numberSetting(src, 'TAXIWAY_JOB_BURST_PER_RIDER') },
      perIp: { ratePerS: numberSetting(src, 'TAXIWAY_JOB_RATE_PER_IP'), burst: numberSetting(src, 'TAXIWAY_JOB_BURST_PER_IP') },
      maxOpenPerRider: numberSetting(src, 'TAXIWAY_MAX_OPEN_JOBS_PER_RIDER'),
    },
    finishedJobs: { ttlMs: numberSetting(src, 'TAXIWAY_FINISHED_JOB_TTL_MS'), maxKept: numberSetting(src, 'TAXIWAY_FINISHED_JOBS_KEPT') },
    experimentLimits: { windowsKept: numberSetting(src, 'TAXIWAY_EXPERIMENT_WINDOWS_KEPT'), jobsTracked: numberSetting(src, 'TAXIWAY_EXPERIMENT_JOBS_TRACKED') },
    mode,
  };
}

/** TAXIWAY_HEALTH_PORT (unset: off) with its stall bound and snapshot period. */
function healthFromEnv(src: EnvSource): Config['health'] {
  const raw = src.TAXIWAY_HEALTH_PORT;
  if (raw === undefined || raw === '') return null;
  const port = Number(raw);
  checkNumber(port, SETTINGS.PORT, () => `TAXIWAY_HEALTH_PORT=${JSON.stringify(raw)}`);
  return { port, stallMs: numberSetting(src, 'TAXIWAY_HEALTH_STALL_MS'), refreshMs: numberSetting(src, 'TAXIWAY_HEALTH_METRICS_MS') };
}

/** TAXIWAY_NODE_TTL_MS, at least two heartbeats (one late heartbeat must not make a live node look dead). */
function nodeTtl(src: EnvSource): number {
  const ttl = numberSetting(src, 'TAXIWAY_NODE_TTL_MS');
  const beat = numberSetting(src, 'TAXIWAY_NODE_HEARTBEAT_MS');
  if (ttl < 2 * beat) throw new ConfigError(`TAXIWAY_NODE_TTL_MS=${ttl}: at least twice TAXIWAY_NODE_HEARTBEAT_MS (${beat})`);
  return ttl;
}
