// `taxiway serve | demo | token`: the command line. Prints to stdout/stderr; logs go through pino.
import { loadConfig, flagsToEnv, ConfigError } from './config.js';
import { startApp } from './app.js';
import type { TaxiwayApp } from './app.js';
import { signToken } from './auth/tokens.js';
import { loadOrCreateSecret } from './auth/secret-file.js';
import { ROLES } from './protocol/messages.js';
import type { Role } from './protocol/messages.js';
import { UwsFallbackError } from './ws/uws.js';
import { ListenError } from './ws/server.js';
import { intOption, parseArgs, take } from './cli-args.js';

const USAGE = `usage: taxiway <command> [options]

commands:
  serve   run a node            [--port N] [--host H] [--data-dir DIR] [--cities FILE] [--log-level L]
  demo    server + simulated Monaco fleet + riders + dashboard
                                [--drivers N] [--riders-per-min M] [--speed X] [--trip-s S]
                                [--duration S] [--seed N] [--port N] [--data-dir DIR]
  token   print a signed JWT    --role driver|rider|ops --sub ID [--ttl SECONDS] [--data-dir DIR]
  migrate create/update the Cassandra keyspace and tables (CASSANDRA_* settings)
  replay  stream real Porto taxi traces through the driver protocol
                                --file PORTO.csv --url ws://HOST:PORT [--speed N] (taxiway replay --help)
  bench   load generator and benchmark scenarios (taxiway bench help)
  eta-eval  score an ETA model  --train TRAIN.csv --test TEST.csv [--model baseline|learned]
                                [--telemetry PORTO_TRACES.csv] [--json]

Configuration comes from the environment (PORT, TAXIWAY_AUTH_SECRET, TAXIWAY_DATA_DIR, ...; see README)
and the options above, which override it.`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'serve':
        return await serve(rest);
      case 'demo': {
        const { runDemo } = await import('./sim/demo.js');
        return await runDemo(rest);
      }
      case 'token':
        return await token(rest);
      case 'bench': {
        // The benchmark suite lives beside src (benchmarks/), compiled to dist/benchmarks.
        const { runBenchCli } = await import('../benchmarks/cli.js');
        return await runBenchCli(rest);
      }
      case 'migrate': {
        const { runMigrate } = await import('./storage/cassandra/cassandra-migrate-cli.js');
        return await runMigrate(rest);
      }
      case 'replay': {
        const { runReplay } = await import('./sim/replay.js');
        return await runReplay(rest);
      }
      case 'eta-eval': {
        const { runEtaEval } = await import('./eta/eta-eval-cli.js');
        return await runEtaEval(rest);
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE + '\n');
        return cmd === undefined ? 2 : 0;
      default:
        process.stderr.write(`taxiway: unknown command ${cmd}\n\n${USAGE}\n`);
        return 2;
    }
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UwsFallbackError || e instanceof ListenError || (e instanceof Error && /^(option|--)/.test(e.message))) {
      process.stderr.write(`taxiway: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

async function serve(argv: string[]): Promise<number> {
  const { options, positional } = parseArgs(argv);
  if (positional.length) throw new ConfigError(`unexpected argument ${positional[0]}`);
  const config = loadConfig(flagsToEnv(options, process.env));
  const app = await startApp(config);
  await untilSignal(app);
  return 0;
}

/** Resolve when SIGINT/SIGTERM arrives and the app has stopped (sockets closed with 1001, storage flushed). */
export function untilSignal(app: TaxiwayApp, before?: () => void): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const onSignal = (sig: string): void => {
      if (done) return;
      done = true;
      app.logger.info({ sig }, 'shutting down');
      before?.();
      app.stop().then(resolve, (err) => {
        app.logger.error({ err }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGINT', () => onSignal('SIGINT'));
    process.once('SIGTERM', () => onSignal('SIGTERM'));
  });
}

async function token(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv);
  const role = take(options, 'role');
  const sub = take(options, 'sub');
  const ttl = intOption(take(options, 'ttl'), 'ttl', 3600, 1, 10 * 365 * 86400);
  if (!role || !ROLES.includes(role as Role)) throw new ConfigError('--role must be driver, rider or ops');
  if (!sub) throw new ConfigError('--sub is required (the driver, rider or ops user id)');
  const config = loadConfig(flagsToEnv(options, process.env));
  const secret = config.authSecret ?? loadOrCreateSecret(config.dataDir).secret;
  process.stdout.write((await signToken(secret, sub, role as Role, ttl)) + '\n');
  return 0;
}
