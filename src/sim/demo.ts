// `taxiway demo`: an embedded server plus simulated Monaco drivers and riders over real sockets.
import path from 'node:path';
import { startApp } from '../app.js';
import type { TaxiwayApp } from '../app.js';
import { signToken } from '../auth/tokens.js';
import { ConfigError } from '../config/config-error.js';
import type { EnvSource } from '../config/config-error.js';
import { readEnvironment } from '../config/environment.js';
import { loadConfig } from '../config/load-config.js';
import { flagsToEnv } from '../config/settings.js';
import { intOption, parseArgs, take } from '../cli-args.js';
import { createLogger } from '../observability/logger.js';
import type { Role } from '../protocol/messages.js';
import { RoadGraph, defaultMonacoRoadsPath } from './road-graph.js';
import { SimFleet } from './sim-driver.js';
import { SimRiders } from './sim-rider.js';
import { STATUS_LEGEND, StatusSampler, formatStatus } from './sim-status.js';
import type { DemoStatus } from './sim-status.js';
import { AREA_CENTRE, SimWorld, seededRandom } from './sim-world.js';

export type { DemoStatus } from './sim-status.js';

export interface DemoOptions {
  /** Called with every status sample (every 5 s, and once more at the end). */
  onStatus?(s: DemoStatus): void;
  /** Where status and banner lines go; default process.stdout (this is CLI output, not logging). */
  write?(line: string): void;
  /** The environment the demo's server settings start from (default: the process environment). */
  env?: EnvSource;
  /** Stops the demo when aborted, like Ctrl-C (tests stop as soon as they have seen enough). */
  signal?: AbortSignal;
}

/** The node's own log, in the data dir: the terminal is kept for the banner and status lines. */
export const DEMO_LOG_FILE = 'demo.log';

/** How often a status line is printed, ms. */
const STATUS_MS = 5000;
/** A final status closer than this to the previous one would repeat it: skipped, ms. */
const FINAL_STATUS_GAP_MS = 1000;
/** Fastest speed a sim car may report, m/s: a margin under the server's 250 km/h jump filter. */
const MAX_SIM_MPS = 240 / 3.6;
const DAY_S = 86_400;

interface DemoArgs {
  drivers: number;
  ridersPerMin: number;
  durationS: number | undefined;
  speed: number;
  tripS: number;
  seed: number;
  flags: Record<string, string>;
}

function numberOption(v: string | undefined, name: string, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(`--${name} must be a number from ${min} to ${max}`);
  return n;
}

function parseDemoArgs(argv: string[]): DemoArgs {
  const { options, positional } = parseArgs(argv);
  if (positional.length) throw new ConfigError(`unexpected argument ${positional[0]}`);
  const duration = take(options, 'duration');
  return {
    drivers: intOption(take(options, 'drivers'), 'drivers', 40, 0, 10_000),
    ridersPerMin: numberOption(take(options, 'riders-per-min'), 'riders-per-min', 12, 0, 60_000),
    durationS: duration === undefined ? undefined : numberOption(duration, 'duration', 0, 1, 365 * DAY_S),
    speed: numberOption(take(options, 'speed'), 'speed', 1, 0.1, 10),
    tripS: intOption(take(options, 'trip-s'), 'trip-s', 120, 10, 3600),
    seed: intOption(take(options, 'seed'), 'seed', Math.floor(Math.random() * 2 ** 31), 0, 2 ** 31),
    // Everything else is server configuration (--port, --data-dir, --log-level, ...); unknown ones fail there.
    flags: options,
  };
}

/**
 * Run the demo until Ctrl-C, --duration or `opts.signal`. Resolves with the exit code. Options and
 * their defaults are listed by `taxiway demo --help` (src/cli-usage.ts): --drivers, --riders-per-min,
 * --speed, --trip-s (pickups appear 10-33% of it ahead of a free car), --duration, --seed, plus every
 * server flag (demo defaults: --host 127.0.0.1, --data-dir ./data/demo, --log-level warn).
 */
export async function runDemo(argv: string[], opts: DemoOptions = {}): Promise<number> {
  const write = opts.write ?? ((line: string) => void process.stdout.write(line + '\n'));
  const a = parseDemoArgs(argv);
  const graph = RoadGraph.fromFile(defaultMonacoRoadsPath());
  if (a.speed * graph.maxSpeedMps > MAX_SIM_MPS) {
    const max = Math.floor((MAX_SIM_MPS / graph.maxSpeedMps) * 10) / 10;
    throw new ConfigError(`--speed ${a.speed}: cars on the fastest road (${Math.round(graph.maxSpeedMps * 3.6)} km/h) would break the server's 250 km/h jump filter; use at most ${max}`);
  }
  // Demo defaults: own data dir, quiet logs (status lines stay readable), local-only listening.
  // The demo is the embedded default: one process, no external services, whatever the shell exports.
  const env: Record<string, string | undefined> = { ...(opts.env ?? readEnvironment()), TAXIWAY_DATA_DIR: './data/demo', REDIS_URL: '', CASSANDRA_CONTACT_POINTS: '' };
  env.LOG_LEVEL ||= 'warn';
  env.HOST ||= '127.0.0.1';
  env.TAXIWAY_OFFER_TIMEOUT_MS ||= '10000';
  env.TAXIWAY_DASHBOARD_ROADS ||= defaultMonacoRoadsPath();
  const config = loadConfig(flagsToEnv(a.flags, env));
  // JSON log lines in the middle of the banner and status lines would bury them: they go to a file.
  const logFile = path.join(config.dataDir, DEMO_LOG_FILE);
  const app = await startApp(config, { logger: createLogger(config.logLevel, logFile) });
  // Wildcard listeners are reached on loopback; an IPv6 literal needs brackets in a URL.
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const httpBase = `http://${host}:${app.port}`;
  const wsBase = `ws://${host}:${app.port}`;
  const tokenFor = (role: Role, ttlS: number) => (sub: string) => signToken(app.secret, sub, role, ttlS);

  const world = new SimWorld(graph, { drivers: a.drivers, ridersPerMin: a.ridersPerMin, speed: a.speed, tripS: a.tripS, httpBase, wsBase },
    seededRandom(a.seed), app.logger.child({ c: 'sim' }));
  const fleet = new SimFleet(world);
  const riders = new SimRiders(world, fleet, tokenFor('rider', 3600));
  const stopSignal = waitForStop(a.durationS, opts.signal);
  try {
    await banner(app, a, graph.nodeCount, httpBase, wsBase, logFile, write);
    await fleet.connect(a.drivers, tokenFor('driver', DAY_S));
    world.startedAt = Date.now();
    riders.start();
    const sampler = new StatusSampler(world, fleet, `${httpBase}/metrics`, world.startedAt);
    let lastAt = world.startedAt;
    let firstTold = false;
    let inFlight: Promise<void> | null = null;
    const report = (): Promise<void> => {
      inFlight ??= (async () => {
        const s = await sampler.sample();
        lastAt = Date.now();
        write(formatStatus(s));
        if (s.firstTripS !== undefined && !firstTold) {
          firstTold = true;
          write(`first trip completed ${s.firstTripS.toFixed(0)} s after start`);
        }
        opts.onStatus?.(s);
      })().catch((err) => app.logger.warn({ err }, 'demo status failed')).finally(() => { inFlight = null; });
      return inFlight;
    };
    // A slow scrape never piles up: a tick while one is in flight is skipped.
    const timer = setInterval(() => void (inFlight ?? report()), STATUS_MS);
    const why = await stopSignal.done;
    clearInterval(timer);
    await inFlight;
    // The final state, unless a status line was printed just now (it would be the same line again).
    if (Date.now() - lastAt >= FINAL_STATUS_GAP_MS) await report();
    write(`stopping (${why}) ...`);
  } finally {
    stopSignal.dispose();
    world.stop();
    await Promise.all([fleet.stop(), riders.stop()]);
    await app.stop();
  }
  write('stopped');
  return 0;
}

/** Resolves on SIGINT/SIGTERM, after `durationS` or when `signal` aborts; dispose() removes the handlers and the timer. */
function waitForStop(durationS: number | undefined, signal?: AbortSignal): { done: Promise<string>; dispose(): void } {
  let resolve!: (why: string) => void;
  const done = new Promise<string>((r) => (resolve = r));
  const onInt = (): void => resolve('SIGINT');
  const onTerm = (): void => resolve('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  const onAbort = (): void => resolve('stopped by its caller');
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort);
  const timer = durationS === undefined ? null : setTimeout(() => resolve(`--duration ${durationS}`), durationS * 1000);
  return {
    done,
    dispose() {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      signal?.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
    },
  };
}

async function banner(app: TaxiwayApp, a: DemoArgs, nodes: number, httpBase: string, wsBase: string, logFile: string, write: (l: string) => void): Promise<void> {
  const ops = await signToken(app.secret, 'demo-ops', 'ops', DAY_S);
  const rider = await signToken(app.secret, 'demo-rider', 'rider', DAY_S);
  const body = JSON.stringify({ pickup: AREA_CENTRE, dropoff: { lat: 43.7311, lng: 7.4197 } });
  write(`taxiway demo: ${a.drivers} drivers, ${a.ridersPerMin} riders/min on Monaco roads (${nodes} nodes), speed x${a.speed}, seed ${a.seed}`);
  write(`  dashboard    ${httpBase}/dashboard#token=${ops}`);
  write(`  driver ws    ${wsBase}/v1/driver/ws   (sim drivers sim-d0..sim-d${Math.max(0, a.drivers - 1)})`);
  write(`  rider ws     ${wsBase}/v1/rider/ws`);
  write(`  ops ws       ${wsBase}/v1/ops/ws?token=<the dashboard token>`);
  write(`  rider token  (sub demo-rider, 24 h) ${rider}`);
  write(`  try it       curl -H "authorization: Bearer <rider token>" -H 'content-type: application/json' -d '${body}' ${httpBase}/v1/jobs`);
  write(`  metrics      ${httpBase}/metrics`);
  write(`  data dir     ${app.config.dataDir}   (JWT secret in auth-secret; node log ${path.basename(logFile)}, level ${app.config.logLevel})`);
  write(STATUS_LEGEND);
  write(`status every ${STATUS_MS / 1000} s; the first riders ask for short hops, so a first trip completes within about 45 s. Ctrl-C to stop`);
}
