// Typed configuration, read once at startup from environment and flags, validated with clear messages.
import fs from 'node:fs';
import path from 'node:path';
import type { CityDef } from './fleet/city-locator.js';
import { cassandraSettingsFromEnv } from './storage/cassandra-options.js';
import type { CassandraSettings } from './storage/cassandra-options.js';
import type { WsLimits } from './ws/conn-limits.js';

export interface DispatchSettings {
  /** Search radius around the pickup, metres. */
  radiusM: number;
  /** How long a driver has to answer an offer, ms. */
  offerTimeoutMs: number;
  /** Most drivers offered one job before it becomes unfulfilled. */
  maxAttempts: number;
  /** A driver whose last fix is older than this is not a candidate, ms. */
  staleMs: number;
  /** Average road speed for the baseline ETA, m/s. */
  speedMps: number;
}

export interface Config {
  host: string;
  port: number;
  /** HS256 secret; undefined means "generate one in the data dir" (embedded mode only). */
  authSecret?: string;
  dataDir: string;
  logLevel: string;
  cities: CityDef[];
  /** GeoJSON road lines drawn behind the ops dashboard (optional; the demo sets it). */
  dashboardRoads?: string;
  /** Folder of the cities file (ETA seed paths are relative to it). */
  citiesDir: string;
  dispatch: DispatchSettings;
  /** How often the server wants fixes from drivers, ms (sent in `hello`). */
  fixIntervalMs: number;
  /** A driver silent this long is removed from the live fleet, ms. */
  expireMs: number;
  /** How often kdbush snapshots are rebuilt when positions changed, ms. */
  indexRebuildMs: number;
  /** Per-socket send buffer limit before latest-only delivery kicks in, bytes. */
  maxBackpressureBytes: number;
  /** Limits against hostile clients: pending actions per socket, upgrades and open sockets per IP. */
  wsLimits: WsLimits;
  redisUrl?: string;
  /** Prefix of every Redis key and channel, so deployments (and tests) can share one Redis. */
  redisPrefix: string;
  /** This node's id in cluster mode (default: host-pid-random). */
  nodeId?: string;
  /** Cassandra storage (history, job events) when CASSANDRA_CONTACT_POINTS is set; LMDB otherwise. */
  cassandra?: CassandraSettings;
  /** Create/update the Cassandra schema at startup (TAXIWAY_MIGRATE=1; production runs `taxiway migrate`). */
  migrateOnStart: boolean;
  mode: 'embedded' | 'cluster';
}

export class ConfigError extends Error {}

type Source = Record<string, string | undefined>;

const DISPATCH_KEYS = new Set(['radiusM', 'offerTimeoutMs', 'maxAttempts', 'staleMs', 'speedMps']);

function int(src: Source, key: string, def: number, min: number, max: number): number {
  const raw = src[key];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(`${key}=${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`);
  }
  return v;
}

function float(src: Source, key: string, def: number, min: number, max: number): number {
  const raw = src[key];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) throw new ConfigError(`${key}=${JSON.stringify(raw)}: expected a number from ${min} to ${max}`);
  return v;
}

/** Flags (`--port 9000`, `--data-dir x`) map onto the environment names: --port → PORT, --data-dir → TAXIWAY_DATA_DIR. */
const FLAG_TO_ENV: Record<string, string> = {
  port: 'PORT',
  host: 'HOST',
  'data-dir': 'TAXIWAY_DATA_DIR',
  'auth-secret': 'TAXIWAY_AUTH_SECRET',
  cities: 'TAXIWAY_CITIES',
  'log-level': 'LOG_LEVEL',
  'offer-timeout-ms': 'TAXIWAY_OFFER_TIMEOUT_MS',
  'stale-ms': 'TAXIWAY_STALE_MS',
  'search-radius-m': 'TAXIWAY_SEARCH_RADIUS_M',
  'max-attempts': 'TAXIWAY_MAX_ATTEMPTS',
};

/** Merge `--flag value` pairs over the environment. Unknown flags are an error. */
export function flagsToEnv(flags: Record<string, string>, env: Source): Source {
  const out: Source = { ...env };
  for (const [k, v] of Object.entries(flags)) {
    const key = FLAG_TO_ENV[k];
    if (!key) throw new ConfigError(`unknown option --${k}`);
    out[key] = v;
  }
  return out;
}

function loadCities(file: string | undefined): CityDef[] {
  if (!file) return [{ name: 'world', timezone: 'UTC', boundary: null }];
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`TAXIWAY_CITIES=${file}: ${(e as Error).message}`);
  }
  const list = (parsed as { cities?: unknown })?.cities;
  if (!Array.isArray(list) || list.length === 0) throw new ConfigError(`TAXIWAY_CITIES=${file}: expected {"cities": [...]} with at least one city`);
  const names = new Set<string>();
  if (list.filter((c: Record<string, unknown>) => c?.boundary == null).length > 1) throw new ConfigError(`TAXIWAY_CITIES=${file}: at most one city may have no boundary (the catch-all)`);
  return list.map((c: Record<string, unknown>, i: number) => {
    const where = `TAXIWAY_CITIES=${file}: cities[${i}]`;
    if (typeof c?.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(c.name)) throw new ConfigError(`${where}.name must be 1-64 of A-Z a-z 0-9 _ -`);
    if (names.has(c.name)) throw new ConfigError(`${where}.name ${c.name} is used twice`);
    names.add(c.name);
    const tz = c.timezone ?? 'UTC';
    if (typeof tz !== 'string') throw new ConfigError(`${where}.timezone must be an IANA zone name`);
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
    } catch {
      throw new ConfigError(`${where}.timezone ${tz} is not a known IANA zone`);
    }
    const b = c.boundary as { type?: string; coordinates?: unknown } | null | undefined;
    if (b != null && !((b.type === 'Polygon' || b.type === 'MultiPolygon') && Array.isArray(b.coordinates))) {
      throw new ConfigError(`${where}.boundary must be a GeoJSON Polygon or MultiPolygon (or null for everywhere)`);
    }
    const dispatch = c.dispatch as Record<string, number> | undefined;
    if (dispatch !== undefined && (typeof dispatch !== 'object' || dispatch === null)) throw new ConfigError(`${where}.dispatch must be an object`);
    if (dispatch) {
      for (const [k, v] of Object.entries(dispatch)) {
        if (!DISPATCH_KEYS.has(k)) throw new ConfigError(`${where}.dispatch.${k} is not a dispatch setting (${[...DISPATCH_KEYS].join(', ')})`);
        if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ConfigError(`${where}.dispatch.${k} must be a positive number`);
      }
    }
    const eta = c.eta as { seedTrips?: unknown; seedTraces?: unknown } | undefined;
    if (eta !== undefined) {
      if (typeof eta !== 'object' || eta === null) throw new ConfigError(`${where}.eta must be an object`);
      for (const k of ['seedTrips', 'seedTraces'] as const) {
        const v = eta[k];
        if (v === undefined) continue;
        if (typeof v !== 'string') throw new ConfigError(`${where}.eta.${k} must be a path`);
        if (!fs.existsSync(path.resolve(path.dirname(file), v))) throw new ConfigError(`${where}.eta.${k}: ${v} not found (relative to ${path.dirname(file)})`);
      }
    }
    return { name: c.name, timezone: tz, boundary: (b ?? null) as CityDef['boundary'], dispatch, eta } as CityDef;
  });
}

function dashboardRoads(file: string | undefined): string | undefined {
  if (!file) return undefined;
  if (!fs.existsSync(file)) throw new ConfigError(`TAXIWAY_DASHBOARD_ROADS=${file}: file not found`);
  return path.resolve(file);
}

/** Read and validate the whole configuration. Throws ConfigError with a message naming the setting. */
export function loadConfig(src: Source = process.env): Config {
  const redisUrl = src.REDIS_URL || undefined;
  const secret = src.TAXIWAY_AUTH_SECRET || undefined;
  if (secret !== undefined && secret.length < 16) throw new ConfigError('TAXIWAY_AUTH_SECRET must be at least 16 characters');
  const mode = redisUrl ? 'cluster' : 'embedded';
  if (mode === 'cluster' && !secret) throw new ConfigError('TAXIWAY_AUTH_SECRET is required in cluster mode (every node must share it)');
  const level = src.LOG_LEVEL || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) throw new ConfigError(`LOG_LEVEL=${level}: expected fatal|error|warn|info|debug|trace|silent`);
  const dataDir = path.resolve(src.TAXIWAY_DATA_DIR || './data');
  return {
    host: src.HOST || '0.0.0.0',
    port: int(src, 'PORT', 8080, 0, 65535),
    authSecret: secret,
    dataDir,
    logLevel: level,
    cities: loadCities(src.TAXIWAY_CITIES),
    dashboardRoads: dashboardRoads(src.TAXIWAY_DASHBOARD_ROADS),
    citiesDir: src.TAXIWAY_CITIES ? path.dirname(path.resolve(src.TAXIWAY_CITIES)) : process.cwd(),
    dispatch: {
      radiusM: int(src, 'TAXIWAY_SEARCH_RADIUS_M', 5000, 10, 1_000_000),
      offerTimeoutMs: int(src, 'TAXIWAY_OFFER_TIMEOUT_MS', 10_000, 100, 600_000),
      maxAttempts: int(src, 'TAXIWAY_MAX_ATTEMPTS', 10, 1, 1000),
      staleMs: int(src, 'TAXIWAY_STALE_MS', 30_000, 1000, 3_600_000),
      speedMps: float(src, 'TAXIWAY_ETA_SPEED_MPS', 8.3, 0.5, 60),
    },
    fixIntervalMs: int(src, 'TAXIWAY_FIX_INTERVAL_MS', 1000, 100, 600_000),
    expireMs: int(src, 'TAXIWAY_EXPIRE_MS', 300_000, 1000, 86_400_000),
    indexRebuildMs: int(src, 'TAXIWAY_INDEX_REBUILD_MS', 200, 10, 60_000),
    maxBackpressureBytes: int(src, 'TAXIWAY_MAX_BACKPRESSURE_BYTES', 1024 * 1024, 16 * 1024, 1024 * 1024 * 1024),
    wsLimits: {
      maxPendingActions: int(src, 'TAXIWAY_WS_MAX_PENDING_ACTIONS', 64, 1, 100_000),
      // 0 turns a per-IP limit off (benchmarks open tens of thousands of sockets from 127.0.0.1).
      maxSocketsPerIp: int(src, 'TAXIWAY_WS_MAX_SOCKETS_PER_IP', 2000, 0, 10_000_000),
      upgradesPerSecPerIp: int(src, 'TAXIWAY_WS_UPGRADES_PER_SEC_PER_IP', 200, 0, 10_000_000),
    },
    redisUrl,
    redisPrefix: src.TAXIWAY_REDIS_PREFIX ?? 'taxiway:',
    nodeId: src.TAXIWAY_NODE_ID || undefined,
    cassandra: src.CASSANDRA_CONTACT_POINTS ? cassandraSettingsFromEnv(src, dataDir) : undefined,
    migrateOnStart: src.TAXIWAY_MIGRATE === '1',
    mode,
  };
}
