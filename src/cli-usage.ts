// Usage texts of `taxiway`, `taxiway serve --help`, `taxiway token --help` and `taxiway demo --help`.
// The settings listed here mirror the README's configuration table and the flag → variable map in
// src/config.ts; test/cli-help.test.ts fails when a flag of the README's table is missing here.

/** One command-line option: its value placeholder, environment variable, default and meaning. */
export interface FlagHelp {
  flag: string;
  /** Placeholder of the value (`N`, `DIR`); empty for a switch. */
  value: string;
  /** The environment variable it overrides, if any. */
  env?: string;
  def: string;
  meaning: string;
}

/** Flags of `taxiway serve` (also taken by `demo` and, for the secret and data dir, `token`). */
export const SERVE_FLAGS: readonly FlagHelp[] = [
  { flag: 'port', value: 'N', env: 'PORT', def: '8080', meaning: 'HTTP and WebSocket port (0 picks a free one)' },
  { flag: 'host', value: 'ADDR', env: 'HOST', def: '0.0.0.0', meaning: 'listen address' },
  { flag: 'auth-secret', value: 'S', env: 'TAXIWAY_AUTH_SECRET', def: 'generated (embedded)', meaning: 'HS256 secret for JWTs, at least 16 characters (generated: stored once in <data dir>/auth-secret)' },
  { flag: 'data-dir', value: 'DIR', env: 'TAXIWAY_DATA_DIR', def: './data', meaning: 'LMDB store and generated secret' },
  { flag: 'cities', value: 'FILE', env: 'TAXIWAY_CITIES', def: 'one city, the whole world', meaning: 'JSON file of cities (see README)' },
  { flag: 'log-level', value: 'L', env: 'LOG_LEVEL', def: 'info', meaning: 'fatal|error|warn|info|debug|trace|silent' },
  { flag: 'search-radius-m', value: 'M', env: 'TAXIWAY_SEARCH_RADIUS_M', def: '5000', meaning: 'dispatch search radius, metres' },
  { flag: 'offer-timeout-ms', value: 'MS', env: 'TAXIWAY_OFFER_TIMEOUT_MS', def: '10000', meaning: 'how long a driver has to answer an offer' },
  { flag: 'max-attempts', value: 'N', env: 'TAXIWAY_MAX_ATTEMPTS', def: '10', meaning: 'drivers offered one job before it is unfulfilled' },
  { flag: 'stale-ms', value: 'MS', env: 'TAXIWAY_STALE_MS', def: '30000', meaning: 'a driver silent longer is not a dispatch candidate' },
];

/** Settings read from the environment only (no flag). */
const ENV_ONLY: ReadonlyArray<[env: string, def: string, meaning: string]> = [
  ['TAXIWAY_EXPIRE_MS', '300000', 'a driver silent longer leaves the live fleet'],
  ['TAXIWAY_FIX_INTERVAL_MS', '1000', 'fix interval asked of drivers (hello.interval_ms)'],
  ['TAXIWAY_ETA_SPEED_MPS', '8.3', 'average speed of the baseline ETA, m/s'],
  ['TAXIWAY_INDEX_REBUILD_MS', '200', 'how often changed spatial snapshots are rebuilt'],
  ['TAXIWAY_MAX_BACKPRESSURE_BYTES', '1048576', 'per-socket send buffer before frames are held'],
  ['REDIS_URL', 'unset (embedded mode)', 'Redis for cluster mode (redis://, rediss://)'],
  ['TAXIWAY_REDIS_PREFIX', 'taxiway:', 'prefix of every Redis key and channel'],
  ['TAXIWAY_NODE_ID', 'host-pid-random', "this node's name in logs and the fleet mirror"],
  ['CASSANDRA_CONTACT_POINTS', 'unset (LMDB)', 'Cassandra for history and job events (host:port,...)'],
  ['CASSANDRA_KEYSPACE', 'taxiway', 'keyspace (docs/storage.md)'],
  ['CASSANDRA_LOCAL_DC', 'datacenter1', 'local data centre'],
  ['CASSANDRA_REPLICATION', 'simple:1', 'keyspace replication, e.g. eu-west-1:3,us-east-1:3'],
  ['CASSANDRA_CONSISTENCY', 'LOCAL_QUORUM', 'read/write consistency'],
  ['CASSANDRA_START_OFFLINE', '0', '1: start even when Cassandra does not answer'],
  ['TAXIWAY_MIGRATE', 'unset', '1: create/update the Cassandra schema at startup (dev)'],
  ['TAXIWAY_DASHBOARD_ROADS', 'unset', 'GeoJSON roads drawn behind the dashboard'],
  ['TAXIWAY_CORS_ORIGINS', 'unset (no CORS)', 'browser origins allowed to call the HTTP API (comma-separated, or *)'],
  ['TAXIWAY_ETA_MAX_DISTANCE_M', '200000', 'GET /v1/eta refuses points farther than this from every city or each other'],
];

/** Two lines per flag: name and meaning, then where else it can be set and its default. */
export function formatFlags(flags: readonly FlagHelp[], defaults: Record<string, string> = {}): string {
  return flags.map((f) => {
    const name = `  --${f.flag}${f.value ? ` ${f.value}` : ''}`;
    const where = [f.env ? `env ${f.env}` : '', `default ${defaults[f.flag] ?? f.def}`].filter(Boolean).join(', ');
    return `${name.padEnd(26)}${f.meaning}\n${' '.repeat(26)}${where}`;
  }).join('\n');
}

function formatEnvOnly(): string {
  return ENV_ONLY.map(([env, def, meaning]) => `  ${env}\n${' '.repeat(26)}${meaning}; default ${def}`).join('\n');
}

export const SERVE_USAGE = `usage: taxiway serve [options]

Runs a taxiway node. Settings come from the environment; each flag overrides its variable.
Invalid values stop the node with a message naming the setting.

options:
${formatFlags(SERVE_FLAGS)}
  -h, --help                this text

environment only:
${formatEnvOnly()}`;

export const TOKEN_USAGE = `usage: taxiway token --role driver|rider|ops --sub ID [--ttl SECONDS] [--data-dir DIR] [--auth-secret S]

Prints a signed JWT. Without TAXIWAY_AUTH_SECRET it signs with the secret a node generated in its
data dir (the same dir as that node's).

options:
${formatFlags([
  { flag: 'role', value: 'ROLE', def: 'none (required)', meaning: 'driver, rider or ops' },
  { flag: 'sub', value: 'ID', def: 'none (required)', meaning: 'the driver, rider or ops user id' },
  { flag: 'ttl', value: 'SECONDS', def: '3600', meaning: 'lifetime of the token' },
  ...SERVE_FLAGS.filter((f) => f.flag === 'data-dir' || f.flag === 'auth-secret'),
])}
  -h, --help                this text`;

/** The demo's own options; defaults here are the ones in src/sim/demo.ts. */
export const DEMO_FLAGS: readonly FlagHelp[] = [
  { flag: 'drivers', value: 'N', def: '40', meaning: 'simulated drivers (sim-d0, sim-d1, ...)' },
  { flag: 'riders-per-min', value: 'M', def: '12', meaning: 'rider arrival rate (the first 3 come in the first seconds)' },
  { flag: 'speed', value: 'X', def: '1', meaning: 'driving and boarding run X times faster (capped under 250 km/h)' },
  { flag: 'trip-s', value: 'S', def: '120', meaning: 'longest ride, seconds of free-flow driving' },
  { flag: 'duration', value: 'S', def: 'until Ctrl-C', meaning: 'stop after S seconds' },
  { flag: 'seed', value: 'N', def: 'random', meaning: 'random seed, to repeat a run' },
];

/** Server settings the demo sets differently from `taxiway serve`. */
export const DEMO_SERVER_DEFAULTS: Record<string, string> = {
  host: '127.0.0.1',
  'data-dir': './data/demo (TAXIWAY_DATA_DIR is ignored)',
  'log-level': 'warn',
};

export const DEMO_USAGE = `usage: taxiway demo [options]

Starts an embedded node (REDIS_URL and CASSANDRA_CONTACT_POINTS are ignored) plus simulated drivers on
the Monaco road network and riders requesting trips, all over real sockets. Prints a dashboard URL with
an ops token, then a status line every 5 s; the node's own log goes to <data dir>/demo.log.

demo options:
${formatFlags(DEMO_FLAGS)}

server options (as for taxiway serve; demo defaults shown):
${formatFlags(SERVE_FLAGS, DEMO_SERVER_DEFAULTS)}
  -h, --help                this text`;

export const USAGE = `usage: taxiway <command> [options]     (taxiway <command> --help: every option of a command)

commands:
  serve     run a node
  demo      server + simulated Monaco fleet + riders + dashboard
                [--drivers N] [--riders-per-min M] [--speed X] [--trip-s S] [--duration S] [--seed N]
  token     print a signed JWT: --role driver|rider|ops --sub ID [--ttl SECONDS] [--data-dir DIR]
  migrate   create/update the Cassandra keyspace and tables (CASSANDRA_* settings)
  replay    stream real Porto taxi traces through the driver protocol as drivers porto-<TAXI_ID>
                [--url ws://HOST:PORT] [--speed N] [--available] [--data-dir DIR] [--file CSV]
  bench     load generator and benchmark scenarios (taxiway bench help)
  eta-eval  score an ETA model: --train TRAIN.csv --test TEST.csv [--model baseline|learned]
                [--telemetry PORTO_TRACES.csv] [--json]

serve options (environment variable and default under each):
${formatFlags(SERVE_FLAGS)}

Configuration comes from the environment (taxiway serve --help lists every variable); flags override it.`;
