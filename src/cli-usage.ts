// Usage texts of `taxiway`, `taxiway serve --help`, `taxiway token --help`, `taxiway demo --help` and `taxiway sim --help`.
// The settings come from the flag table (src/config/settings.ts); test/cli-help.test.ts fails when a
import { SETTINGS } from './config/settings.js';
import type { Setting, SettingName } from './config/settings.js';
// setting of the README's configuration table is missing from `serve --help`.

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

/** Placeholder of a setting's value in the usage text. */
function placeholder(name: SettingName, s: Setting): string {
  if (s.kind !== 'text') return name.endsWith('_MS') ? 'MS' : name.endsWith('_M') ? 'M' : 'N';
  return s.flag === 'data-dir' ? 'DIR' : s.flag === 'cities' ? 'FILE' : s.flag === 'host' ? 'ADDR' : s.flag === 'log-level' ? 'L' : 'S';
}

const ENTRIES = Object.entries(SETTINGS) as Array<[SettingName, Setting]>;

/** Flags of `taxiway serve` (also taken by `demo` and, for the secret and data dir, `token`), from the flag table. */
export const SERVE_FLAGS: readonly FlagHelp[] = ENTRIES.filter(([, s]) => s.flag !== undefined)
  .map(([name, s]) => ({ flag: s.flag!, value: placeholder(name, s), env: name, def: String(s.def), meaning: s.doc }));

/** Settings read from the environment only (no flag), from the flag table. */
const ENV_ONLY: ReadonlyArray<[env: string, def: string, meaning: string]> = ENTRIES.filter(([, s]) => s.flag === undefined)
  .map(([name, s]) => [name, String(s.def), s.doc]);

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

export const TOKEN_USAGE = `usage: taxiway token --role driver|rider|ops --sub ID [--ttl SECONDS] [--products P1,P2] [--data-dir DIR] [--auth-secret S]

Prints a signed JWT. Without TAXIWAY_AUTH_SECRET it signs with the secret a node generated in its
data dir (the same dir as that node's).

options:
${formatFlags([
  { flag: 'role', value: 'ROLE', def: 'none (required)', meaning: 'driver, rider or ops' },
  { flag: 'sub', value: 'ID', def: 'none (required)', meaning: 'the driver, rider or ops user id' },
  { flag: 'ttl', value: 'SECONDS', def: '3600', meaning: 'lifetime of the token' },
  { flag: 'products', value: 'P1,P2', def: 'none (the city default)', meaning: 'drivers: the products claim, comma-separated' },
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

/** The marketplace simulator's options; defaults here are the ones in src/sim/market/sim-options.ts. */
export const SIM_FLAGS: readonly FlagHelp[] = [
  { flag: 'city', value: 'C', def: 'porto', meaning: 'whose trips are the demand: porto or nyc (assets/<city>/trips_train.csv)' },
  { flag: 'policy', value: 'P', def: 'greedy', meaning: 'dispatch policy to run; repeat it to compare policies on the same demand' },
  { flag: 'drivers', value: 'N', def: '200', meaning: 'drivers, starting at pickup places of the data drawn at random' },
  { flag: 'hours', value: 'H', def: '1', meaning: 'simulated hours of demand (the run then goes on until every job is final)' },
  { flag: 'seed', value: 'S', def: '1', meaning: 'random seed: same seed, same demand, same run' },
  { flag: 'scale', value: 'F', def: '1', meaning: 'demand factor: each trip of the data is requested F times per simulated hour' },
  { flag: 'decline', value: 'P', def: '0.1', meaning: 'probability that a driver declines an offer, 0-1' },
  { flag: 'eta', value: 'M', def: 'baseline', meaning: 'ETA model: baseline (distance at the trips\' mean speed) or learned (fitted on the trips)' },
  { flag: 'json', value: '', def: 'off', meaning: 'print one JSON object {policies: [...]} instead of the tables' },
];

export const SIM_USAGE = `usage: taxiway sim [--city porto|nyc] [--policy P ...] [--drivers N] [--hours H] [--seed S]
                  [--scale F] [--decline P] [--eta baseline|learned] [--json]

The marketplace simulator: runs the real matching code (JobService, Dispatcher, memory job repository and
timers, fleet index, an ETA model) in virtual time, without sockets. The hours of day the city's real
trips cover are folded into every simulated hour (keeping the day's shape), scaled by F.
Drivers answer offers after 2-8 s and decline with probability P, drive straight lines at the ETA's
durations, spend 60 s boarding; riders cancel when no car has arrived after 4-12 min (uniform). Prints per
policy: jobs, fulfilment (completed / jobs), pickup wait (request to driver arrived: mean, p50, p90),
offers per job, utilisation (driver time with a job / supply) and wall time.

options:
${formatFlags(SIM_FLAGS)}
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
  sim       marketplace simulator: dispatch policies on real demand in virtual time
                [--city porto|nyc] [--policy P ...] [--drivers N] [--hours H] [--seed S] [--scale F]
                [--decline P] [--eta baseline|learned] [--json]
  bench     load generator and benchmark scenarios (taxiway bench help)
  eta-eval  score an ETA model: --train TRAIN.csv --test TEST.csv [--model baseline|learned]
                [--telemetry PORTO_TRACES.csv] [--json]

serve options (environment variable and default under each):
${formatFlags(SERVE_FLAGS)}

Configuration comes from the environment (taxiway serve --help lists every variable); flags override it.`;
