// The flag table: every setting's environment name, `serve` flag, type, default, range and doc line,
// used both to parse the configuration and to print `taxiway serve --help`.
import { ConfigError } from './config-error.js';
import type { EnvSource } from './config-error.js';

interface Base {
  /** The `taxiway serve` flag that overrides the variable, if any. */
  flag?: string;
  /** One line for the usage text and the README table. */
  doc: string;
}
/** An integer (`int`) or a decimal number (`float`) within [min, max]. */
export interface NumberSetting extends Base {
  kind: 'int' | 'float';
  def: number;
  min: number;
  max: number;
}
/** A string, or a value with its own parser (URL, path, list); `def` is how the default reads in the usage text. */
export interface TextSetting extends Base {
  kind: 'text';
  def: string;
}
export type Setting = NumberSetting | TextSetting;

export const SETTINGS = {
  PORT: { flag: 'port', kind: 'int', def: 8080, min: 0, max: 65535, doc: 'HTTP and WebSocket port (0 picks a free one)' },
  HOST: { flag: 'host', kind: 'text', def: '0.0.0.0', doc: 'listen address' },
  TAXIWAY_HEALTH_PORT: { kind: 'text', def: 'unset (off)', doc: 'a second port answering /healthz, /readyz, /metrics from a worker thread, so probes get a reply while the main loop is saturated (0 picks a free one)' },
  TAXIWAY_HEALTH_STALL_MS: { kind: 'int', def: 30_000, min: 100, max: 600_000, doc: "health port: /healthz and /readyz answer 503 once the main thread's heartbeat is older than this, ms" },
  TAXIWAY_HEALTH_METRICS_MS: { kind: 'int', def: 1000, min: 100, max: 600_000, doc: 'health port: how often the main thread renders the /metrics snapshot and re-checks readiness, ms' },
  TAXIWAY_AUTH_SECRET: { flag: 'auth-secret', kind: 'text', def: 'generated (embedded)', doc: 'HS256 secret for JWTs, at least 16 characters' },
  TAXIWAY_JWKS_URL: { kind: 'text', def: 'unset (HS256 tokens only)', doc: "an identity provider's JWKS: RS256/ES256 tokens are verified with its keys (the start fails when it cannot be fetched)" },
  TAXIWAY_JWT_ISSUER: { kind: 'text', def: 'unset (not checked)', doc: 'required iss of identity-provider tokens' },
  TAXIWAY_JWT_AUDIENCE: { kind: 'text', def: 'unset (not checked)', doc: 'audience identity-provider tokens must carry in aud' },
  TAXIWAY_JWT_ROLE_CLAIM: { kind: 'text', def: 'role', doc: 'claim of identity-provider tokens holding driver|rider|ops (or an array with one of them)' },
  TAXIWAY_JWKS_REFRESH_MS: { kind: 'int', def: 600_000, min: 1000, max: 86_400_000, doc: 'how often the key set is fetched again, ms' },
  TAXIWAY_JWKS_REFETCH_MIN_MS: { kind: 'int', def: 30_000, min: 0, max: 3_600_000, doc: 'fewest ms between key set fetches triggered by a token with an unknown kid' },
  TAXIWAY_JWKS_TIMEOUT_MS: { kind: 'int', def: 5000, min: 100, max: 120_000, doc: 'longest one fetch of the key set may take, ms' },
  TAXIWAY_DATA_DIR: { flag: 'data-dir', kind: 'text', def: './data', doc: 'LMDB store and generated secret' },
  TAXIWAY_CITIES: { flag: 'cities', kind: 'text', def: 'one city, the whole world', doc: 'JSON file of cities (see README)' },
  LOG_LEVEL: { flag: 'log-level', kind: 'text', def: 'info', doc: 'pino level: fatal|error|warn|info|debug|trace|silent' },
  TAXIWAY_SEARCH_RADIUS_M: { flag: 'search-radius-m', kind: 'int', def: 5000, min: 10, max: 1_000_000, doc: 'dispatch search radius, metres' },
  TAXIWAY_OFFER_TIMEOUT_MS: { flag: 'offer-timeout-ms', kind: 'int', def: 10_000, min: 100, max: 600_000, doc: 'how long a driver has to answer an offer, ms' },
  TAXIWAY_MAX_ATTEMPTS: { flag: 'max-attempts', kind: 'int', def: 10, min: 1, max: 1000, doc: 'drivers offered one job before it is unfulfilled' },
  TAXIWAY_STALE_MS: { flag: 'stale-ms', kind: 'int', def: 30_000, min: 1000, max: 3_600_000, doc: 'a driver silent longer is not a candidate, ms' },
  TAXIWAY_SEARCH_WINDOW_MS: { kind: 'int', def: 60_000, min: 0, max: 3_600_000, doc: 'a job nobody can take yet waits this long for a driver before it is unfulfilled, ms (0: at once)' },
  TAXIWAY_MAX_RADIUS_M: { kind: 'int', def: 5000, min: 10, max: 1_000_000, doc: 'the search radius grows in steps up to this over the search window, metres (at most the search radius: no growth)' },
  TAXIWAY_DISPATCH_POLICY: { kind: 'text', def: 'greedy', doc: 'dispatch policy of cities that set none: greedy (best ETA, one offer at a time) or batched (one assignment per batch window)' },
  TAXIWAY_BATCH_WINDOW_MS: { kind: 'int', def: 2000, min: 100, max: 60_000, doc: 'batched policy: pending jobs of a city are collected this long before each assignment, ms' },
  TAXIWAY_ETA_SPEED_MPS: { kind: 'float', def: 8.3, min: 0.5, max: 60, doc: 'average speed of the baseline ETA, m/s' },
  TAXIWAY_EXPIRE_MS: { kind: 'int', def: 300_000, min: 1000, max: 86_400_000, doc: 'a driver silent longer leaves the live fleet, ms' },
  TAXIWAY_FIX_INTERVAL_MS: { kind: 'int', def: 1000, min: 100, max: 600_000, doc: 'fix interval asked of drivers (hello.interval_ms), ms' },
  TAXIWAY_FIX_BUDGET_RATE: { kind: 'float', def: 5, min: 0, max: 1_000_000, doc: 'fixes per second one driver may send, sustained (0: no fix budget)' },
  TAXIWAY_FIX_BUDGET_BURST: { kind: 'int', def: 7200, min: 1, max: 1_000_000, doc: 'fixes one driver may send at once after a quiet time (an offline backlog: 7200 = 2 h at 1 Hz)' },
  TAXIWAY_INDEX_REBUILD_MS: { kind: 'int', def: 200, min: 10, max: 60_000, doc: 'how often changed spatial snapshots are rebuilt, ms' },
  TAXIWAY_MAX_BACKPRESSURE_BYTES: { kind: 'int', def: 1024 * 1024, min: 16 * 1024, max: 1024 * 1024 * 1024, doc: 'per-socket send buffer before frames are held, bytes' },
  TAXIWAY_WS_MAX_PENDING_ACTIONS: { kind: 'int', def: 64, min: 1, max: 100_000, doc: 'actions (job commands, rider sub) one socket may have waiting; past it rate_limited' },
  // 0 turns a per-IP limit off (benchmarks open tens of thousands of sockets from 127.0.0.1).
  TAXIWAY_WS_MAX_SOCKETS_PER_IP: { kind: 'int', def: 2000, min: 0, max: 10_000_000, doc: 'open WebSockets per client address (0: no limit); past it the upgrade gets 429' },
  TAXIWAY_WS_UPGRADES_PER_SEC_PER_IP: { kind: 'int', def: 200, min: 0, max: 10_000_000, doc: 'WebSocket upgrades per client address per second (0: no limit); past it 429' },
  TAXIWAY_ADMIN_MAX_BODY_BYTES: { kind: 'int', def: 1024 * 1024, min: 1024, max: 64 * 1024 * 1024, doc: 'largest body of an admin API PUT (a city boundary or zone polygon), bytes' },
  TAXIWAY_CATALOG_POLL_MS: { kind: 'int', def: 500, min: 50, max: 60_000, doc: 'cluster: how often a node checks the catalog version in Redis (catches a lost change announcement), ms' },
  TAXIWAY_ZONE_EXIT_FIXES: { kind: 'int', def: 3, min: 1, max: 1000, doc: 'consecutive fixes outside its zone before a driver exits it (hysteresis against GPS jitter at the edge)' },
  TAXIWAY_ZONE_QUEUE_MAX: { kind: 'int', def: 500, min: 1, max: 100_000, doc: 'most drivers one airport queue holds; an available driver entering a full one is not queued (counted)' },
  TAXIWAY_QUEUE_FRAME_MS: { kind: 'int', def: 500, min: 50, max: 60_000, doc: 'least time between two queue frames to one driver: changes of a queue are sent together at most this often, ms' },
  TAXIWAY_QUEUE_LENGTH_FRAME_MS: { kind: 'int', def: 10_000, min: 0, max: 3_600_000, doc: 'a change of its queue length alone (same position) reaches a driver at most this often, ms' },
  TAXIWAY_QUEUE_OFFLINE_GRACE_MS: { kind: 'int', def: 30_000, min: 0, max: 600_000, doc: 'an airport-queued driver gone offline (e.g. its socket dropped) keeps its place this long for a reconnect, ms (0: leaves at once)' },
  TAXIWAY_CORS_ORIGINS: { kind: 'text', def: 'unset (no cross-origin calls)', doc: 'browser origins allowed to call the HTTP API: * or scheme://host[:port],...' },
  TAXIWAY_ETA_MAX_DISTANCE_M: { kind: 'int', def: 200_000, min: 1000, max: 20_100_000, doc: 'farthest a /v1/eta point may lie from a served city (and from the other point), metres' },
  TAXIWAY_JOB_RATE_PER_RIDER: { kind: 'float', def: 0.2, min: 0, max: 1_000_000, doc: 'job creations and cancellations one rider may make, per second, sustained (0: no limit)' },
  TAXIWAY_JOB_BURST_PER_RIDER: { kind: 'int', def: 10, min: 1, max: 1_000_000, doc: 'job creations and cancellations one rider may make at once, above the rate' },
  TAXIWAY_JOB_RATE_PER_IP: { kind: 'float', def: 20, min: 0, max: 1_000_000, doc: 'job creations and cancellations from one client address (IPv6: its /64), per second (0: no limit)' },
  TAXIWAY_JOB_BURST_PER_IP: { kind: 'int', def: 200, min: 1, max: 1_000_000, doc: 'job creations and cancellations from one client address at once, above the rate' },
  TAXIWAY_MAX_OPEN_JOBS_PER_RIDER: { kind: 'int', def: 5, min: 1, max: 1_000_000, doc: 'live (not final) jobs one rider may hold in one city, across all nodes' },
  TAXIWAY_FINISHED_JOB_TTL_MS: { kind: 'int', def: 600_000, min: 1000, max: 86_400_000, doc: 'how long a final job stays in memory (or Redis) beside the live ones; storage keeps it, ms' },
  TAXIWAY_FINISHED_JOBS_KEPT: { kind: 'int', def: 10_000, min: 0, max: 10_000_000, doc: 'most final jobs kept in memory (or Redis) beside the live ones; the oldest-finished go first' },
  TAXIWAY_EXPERIMENT_WINDOWS_KEPT: { kind: 'int', def: 1008, min: 2, max: 100_000, doc: 'switchback windows whose outcomes each experiment keeps in memory (1008 = one week of 10-minute windows); older ones are dropped' },
  TAXIWAY_EXPERIMENT_JOBS_TRACKED: { kind: 'int', def: 100_000, min: 100, max: 10_000_000, doc: 'live experiment jobs whose offers and ETA at accept are tracked for the outcomes; past it the oldest are dropped (and counted)' },
  TAXIWAY_OPS_SNAPSHOT_MAX_JOBS: { kind: 'int', def: 1000, min: 0, max: 100_000, doc: 'live jobs in the snapshot an ops sub gets first (past it the frame says more: true)' },
  TAXIWAY_DASHBOARD_ROADS: { kind: 'text', def: 'unset (demo: Monaco)', doc: 'GeoJSON roads drawn behind the dashboard' },
  REDIS_URL: { kind: 'text', def: 'unset (embedded)', doc: 'Redis for cluster mode (redis:// or rediss://)' },
  REDIS_SENTINELS: { kind: 'text', def: 'unset', doc: 'Redis through Sentinel for cluster mode, instead of REDIS_URL: host:port,... of the Sentinels' },
  REDIS_CLUSTER_NODES: { kind: 'text', def: 'unset', doc: 'Redis Cluster for cluster mode, instead of REDIS_URL or REDIS_SENTINELS: host:port,... of some of its nodes (keys of one city share the hash tag {city})' },
  REDIS_SENTINEL_NAME: { kind: 'text', def: 'unset', doc: 'the primary\'s name as the Sentinels monitor it (required with REDIS_SENTINELS)' },
  REDIS_SENTINEL_PASSWORD: { kind: 'text', def: 'unset', doc: 'password of the Sentinels' },
  REDIS_PASSWORD: { kind: 'text', def: 'unset', doc: 'password of the Redis primary and replicas behind Sentinel, or of the Redis Cluster nodes (with REDIS_URL it goes in the URL)' },
  REDIS_TLS: { kind: 'text', def: '0', doc: '1: TLS to the Sentinels and to Redis, or to the Redis Cluster nodes (with REDIS_URL use rediss://)' },
  REDIS_CONNECT_TIMEOUT_MS: { kind: 'int', def: 10_000, min: 100, max: 600_000, doc: 'how long the start waits for Redis before failing, ms' },
  TAXIWAY_REDIS_WAIT_REPLICAS: { kind: 'text', def: '1 with REDIS_SENTINELS or REDIS_CLUSTER_NODES, 0 with REDIS_URL', doc: 'replicas each job commit waits for (Redis WAIT), 0 to 16; 0: no wait' },
  TAXIWAY_REDIS_WAIT_MS: { kind: 'int', def: 50, min: 1, max: 10_000, doc: 'longest a job commit waits for its replicas before it stands unreplicated, ms' },
  TAXIWAY_REDIS_PREFIX: { kind: 'text', def: 'taxiway:', doc: 'prefix of every Redis key and channel (no { or }: taxiway places the hash tags)' },
  TAXIWAY_SERVE_CITIES: { kind: 'text', def: '* (every city, cities created later too)', doc: 'cities this node serves, comma-separated (each must be a city of TAXIWAY_CITIES or the catalog); a request for another city gets 421 or close 4009 naming a node that serves it' },
  TAXIWAY_PUBLIC_URL: { kind: 'text', def: 'http://<listen host>:<port>', doc: 'http(s) URL clients reach this node at, at most 56 characters: the node registry hands it out in redirects' },
  TAXIWAY_NODE_HEARTBEAT_MS: { kind: 'int', def: 2000, min: 100, max: 600_000, doc: 'cluster: how often a node writes its entry (URL, cities) in the node registry and reads the others, ms' },
  TAXIWAY_NODE_TTL_MS: { kind: 'int', def: 10_000, min: 300, max: 3_600_000, doc: 'cluster: a node registry entry not renewed for this long is gone (its node is taken for dead), ms' },
  TAXIWAY_NODE_ID: { kind: 'text', def: 'host-pid-random', doc: "this node's name in logs and the fleet mirror" },
  CASSANDRA_CONTACT_POINTS: { kind: 'text', def: 'unset (LMDB)', doc: 'Cassandra for history and job events (host:port,...)' },
  CASSANDRA_LOCAL_DC: { kind: 'text', def: 'datacenter1', doc: "the Cassandra client's local data centre" },
  CASSANDRA_KEYSPACE: { kind: 'text', def: 'taxiway', doc: 'keyspace (a letter, then up to 47 of A-Z a-z 0-9 _)' },
  CASSANDRA_REPLICATION: { kind: 'text', def: 'simple:1', doc: 'simple:<factor> or <dc>:<factor>[,<dc>:<factor>...]' },
  CASSANDRA_CONSISTENCY: { kind: 'text', def: 'LOCAL_QUORUM', doc: 'consistency of reads and writes' },
  CASSANDRA_USERNAME: { kind: 'text', def: 'unset', doc: 'user name (with CASSANDRA_PASSWORD)' },
  CASSANDRA_PASSWORD: { kind: 'text', def: 'unset', doc: 'password' },
  CASSANDRA_SPOOL_DIR: { kind: 'text', def: '<data dir>/spool', doc: 'local spool of writes waiting for Cassandra' },
  CASSANDRA_SPOOL_MAX_BYTES: { kind: 'int', def: 8 * 1024 ** 3, min: 1024 * 1024, max: Number.MAX_SAFE_INTEGER, doc: 'spool size before new writes are dropped, bytes' },
  CASSANDRA_START_OFFLINE: { kind: 'text', def: '0', doc: '1: start even when Cassandra does not answer (writes spool until it does)' },
  TAXIWAY_MIGRATE: { kind: 'text', def: 'unset', doc: '1: create/update the Cassandra schema at startup (dev)' },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;
type NumberName = { [K in SettingName]: (typeof SETTINGS)[K]['kind'] extends 'int' | 'float' ? K : never }[SettingName];

/** The setting's number from `src`, its default when unset or empty; ConfigError naming it when out of range. */
export function numberSetting(src: EnvSource, name: NumberName): number {
  const s: NumberSetting = SETTINGS[name];
  const raw = src[name];
  if (raw === undefined || raw === '') return s.def;
  const v = Number(raw);
  checkNumber(v, s, () => `${name}=${JSON.stringify(raw)}`);
  return v;
}

/** Throws ConfigError (prefixed by `where()`) unless `v` is a number of the setting's kind within its range. */
export function checkNumber(v: unknown, s: NumberSetting, where: () => string): asserts v is number {
  const ok = typeof v === 'number' && (s.kind === 'int' ? Number.isInteger(v) : Number.isFinite(v)) && v >= s.min && v <= s.max;
  if (!ok) throw new ConfigError(`${where()}: expected ${s.kind === 'int' ? 'an integer' : 'a number'} from ${s.min} to ${s.max}`);
}

/** `1`/`true` on, unset/empty/`0`/`false` off; anything else is a ConfigError naming the setting. */
export function flagSetting(src: EnvSource, name: SettingName): boolean {
  const v = src[name];
  if (v === undefined || v === '' || v === '0' || v === 'false') return false;
  if (v === '1' || v === 'true') return true;
  throw new ConfigError(`${name}=${v}: expected 1 or 0`);
}

const FLAG_TO_ENV = new Map<string, SettingName>();
for (const [name, s] of Object.entries(SETTINGS) as Array<[SettingName, Setting]>) if (s.flag) FLAG_TO_ENV.set(s.flag, name);

/** Merge `--flag value` pairs over the environment (`--port` → PORT). Unknown flags are a ConfigError. */
export function flagsToEnv(flags: Record<string, string>, env: EnvSource): EnvSource {
  const out: EnvSource = { ...env };
  for (const [k, v] of Object.entries(flags)) {
    const key = FLAG_TO_ENV.get(k);
    if (!key) throw new ConfigError(`unknown option --${k}`);
    out[key] = v;
  }
  return out;
}

