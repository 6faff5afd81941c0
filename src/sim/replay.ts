// `taxiway replay`: streams the real Porto taxi traces through a server's driver protocol and reports what was sent.
import path from 'node:path';
import { intOption, parseArgs, take } from '../cli-args.js';
import type { EnvSource } from '../config/config-error.js';
import { readEnvironment } from '../config/environment.js';
import { replayFleet } from './replay-fleet.js';
import { loadPortoFleet } from './replay-porto.js';
import { packagePath } from '../util/package-root.js';

/** The Porto trips shipped with the package. */
export const DEFAULT_PORTO_FILE = packagePath('assets', 'porto', 'trips_replay.csv');

export const REPLAY_USAGE = `usage: taxiway replay [--file CSV] [--speed N] [--url ws://HOST:PORT] [--taxis N] [--secret S]

Replays real Porto taxi traces (one socket per taxi, driver tokens signed with TAXIWAY_AUTH_SECRET or
--secret) with their times shifted to now, N times faster than recorded (default 60). --file defaults
to assets/porto/trips_replay.csv, --url to ws://127.0.0.1:8080; --taxis keeps the N busiest taxis.`;

/** Runs a replay; returns the exit code (0 done, 1 failed, 2 bad usage). */
export async function runReplay(argv: string[], env: EnvSource = readEnvironment()): Promise<number> {
  let args;
  try {
    const { options, positional } = parseArgs(argv, new Set(['help']));
    if (take(options, 'help')) {
      process.stdout.write(REPLAY_USAGE + '\n');
      return 0;
    }
    const speedRaw = take(options, 'speed') ?? '60';
    const speed = Number(speedRaw);
    if (!(speed > 0 && speed <= 1e6)) throw new Error(`--speed must be a number above 0 and at most 1000000, got ${speedRaw}`);
    const taxis = take(options, 'taxis');
    args = {
      file: path.resolve(take(options, 'file') ?? DEFAULT_PORTO_FILE),
      url: take(options, 'url') ?? 'ws://127.0.0.1:8080',
      secret: take(options, 'secret') ?? env.TAXIWAY_AUTH_SECRET ?? '',
      speed,
      maxTaxis: taxis === undefined ? undefined : intOption(taxis, 'taxis', 0, 1, 1_000_000),
    };
    const extra = [...Object.keys(options).map((k) => `--${k}`), ...positional];
    if (extra.length) throw new Error(`unexpected argument ${extra[0]}`);
    if (args.secret.length < 16) throw new Error('set TAXIWAY_AUTH_SECRET (or --secret) to the server\'s secret: driver tokens are signed with it');
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
      fleet, url: args.url, secret: args.secret, speed: args.speed,
      onProgress: (sent, total) => process.stderr.write(`replay: ${sent}/${total} fixes sent\r`),
    });
    process.stdout.write(`replay: sent ${r.sent} fixes from ${r.taxis} taxis in ${r.seconds.toFixed(1)} s; the server rejected ${r.rejected} (GPS jumps)\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`taxiway replay: ${(e as Error).message}\n`);
    return 1;
  }
}
