// `taxiway replay`: streams the real Porto taxi traces through a server's driver protocol and reports what was sent.
import path from 'node:path';
import { intOption, parseArgs, take } from '../cli-args.js';
import type { EnvSource } from '../config/config-error.js';
import { readEnvironment } from '../config/environment.js';
import { readSecretFile } from '../auth/secret-file.js';
import { replayFleet } from './replay-fleet.js';
import { loadPortoFleet } from './replay-porto.js';
import { packagePath } from '../util/package-root.js';

/** The Porto trips shipped with the package. */
export const DEFAULT_PORTO_FILE = packagePath('assets', 'porto', 'trips_replay.csv');

export const REPLAY_USAGE = `usage: taxiway replay [--url ws://HOST:PORT] [--speed N] [--available] [--taxis N]
                      [--file CSV] [--data-dir DIR] [--secret S]

Replays real Porto taxi traces through a node's driver socket: one socket per taxi, as driver
porto-<TAXI_ID> (e.g. porto-20000596), with the recorded times shifted to now, N times faster than
recorded. Replayed taxis stay offline (they only move on the map and fill the history) unless
--available is given; available taxis get offers but never answer them, so each offer times out.
Dispatch and nearby only consider a taxi whose newest fix is younger than the node's TAXIWAY_STALE_MS:
at --speed 1 fixes are stamped with the time they are sent; faster replays keep the recorded spacing
between fixes (so the jump filter judges real motion) and end at the present, so their stamps lie in
the past until the last minutes of the replay.

options:
  --url ws://HOST:PORT      the node (default ws://127.0.0.1:8080)
  --speed N                 time compression (default 60: the 9.3 recorded hours in about 9 min)
  --available               set every replayed taxi available (dispatch and nearby see it)
  --taxis N                 keep only the N busiest taxis (default all)
  --file CSV                Porto trips CSV (default assets/porto/trips_replay.csv)
  --secret S                the node's HS256 secret (default TAXIWAY_AUTH_SECRET)
  --data-dir DIR            without a secret: read DIR/auth-secret, the one a node generates there
                            (default TAXIWAY_DATA_DIR, else ./data: the same as taxiway serve and token)
  -h, --help                this text

Progress goes to stderr: one updating line on a terminal, a plain line every 10 s otherwise.`;

/** How often progress is printed when stderr is not a terminal, ms. */
const PLAIN_PROGRESS_MS = 10_000;

/** Runs a replay; returns the exit code (0 done, 1 failed, 2 bad usage). */
export async function runReplay(argv: string[], env: EnvSource = readEnvironment()): Promise<number> {
  let args;
  try {
    const { options, positional } = parseArgs(argv, new Set(['help', 'available']));
    if (take(options, 'help')) {
      process.stdout.write(REPLAY_USAGE + '\n');
      return 0;
    }
    const speedRaw = take(options, 'speed') ?? '60';
    const speed = Number(speedRaw);
    if (!(speed > 0 && speed <= 1e6)) throw new Error(`--speed must be a number above 0 and at most 1000000, got ${speedRaw}`);
    const taxis = take(options, 'taxis');
    const available = take(options, 'available') === 'true';
    const dataDir = path.resolve(take(options, 'data-dir') ?? (env.TAXIWAY_DATA_DIR || './data'));
    args = {
      file: path.resolve(take(options, 'file') ?? DEFAULT_PORTO_FILE),
      url: take(options, 'url') ?? 'ws://127.0.0.1:8080',
      secret: take(options, 'secret') ?? (env.TAXIWAY_AUTH_SECRET || readSecretFile(dataDir)?.secret) ?? '',
      speed,
      available,
      maxTaxis: taxis === undefined ? undefined : intOption(taxis, 'taxis', 0, 1, 1_000_000),
    };
    const extra = [...Object.keys(options).map((k) => `--${k}`), ...positional];
    if (extra.length) throw new Error(`unexpected argument ${extra[0]}`);
    if (args.secret.length < 16) {
      throw new Error(`no secret of at least 16 characters: set TAXIWAY_AUTH_SECRET (or --secret) to the node's secret, or point --data-dir at the node's data dir (no ${path.join(dataDir, 'auth-secret')})`);
    }
    if (!/^wss?:\/\//.test(args.url)) throw new Error(`--url must start with ws:// or wss://, got ${args.url}`);
  } catch (e) {
    process.stderr.write(`taxiway replay: ${(e as Error).message}\n\n${REPLAY_USAGE}\n`);
    return 2;
  }
  try {
    const fleet = loadPortoFleet(args.file, { maxTaxis: args.maxTaxis });
    const minutes = (fleet.lastTs - fleet.firstTs) / args.speed / 60_000;
    process.stdout.write(`replay: ${fleet.fixes} fixes of ${fleet.taxis.length} taxis (${fleet.trips} trips) from ${path.basename(args.file)} at ${args.speed}x: about ${minutes.toFixed(1)} min\n`);
    const r = await replayFleet({
      fleet, url: args.url, secret: args.secret, speed: args.speed, available: args.available,
      onProgress: progressPrinter(process.stderr),
    });
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    process.stdout.write(`replay: sent ${r.sent} fixes from ${r.taxis} taxis in ${r.seconds.toFixed(1)} s; the server rejected ${r.rejected} (GPS jumps)\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`taxiway replay: ${(e as Error).message}\n`);
    return 1;
  }
}

/** Progress on `out`: one line rewritten in place on a terminal; plain lines every 10 s when piped or logged. */
export function progressPrinter(out: { isTTY?: boolean; write(s: string): unknown }, now: () => number = Date.now): (sent: number, total: number) => void {
  let last = -Infinity;
  return (sent, total) => {
    const pct = total > 0 ? Math.floor((sent * 100) / total) : 100;
    const text = `replay: ${sent}/${total} fixes sent (${pct}%)`;
    if (out.isTTY) {
      out.write(`\r${text}\x1b[K`);
      return;
    }
    const t = now();
    if (t - last < PLAIN_PROGRESS_MS) return;
    last = t;
    out.write(text + '\n');
  };
}
