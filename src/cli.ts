// `taxiway serve | demo | token | sim | ...`: the command line. Prints to stdout/stderr; logs go through pino.
import { ConfigError, StartError } from './config/config-error.js';
import type { EnvSource } from './config/config-error.js';
import { readEnvironment } from './config/environment.js';
import { loadConfig } from './config/load-config.js';
import { flagsToEnv } from './config/settings.js';
import type { TaxiwayApp } from './app.js';
import { signToken } from './auth/tokens.js';
import { checkProductList } from './protocol/products.js';
import { loadOrCreateSecret } from './auth/secret-file.js';
import { ROLES } from './protocol/messages.js';
import type { Role } from './protocol/messages.js';
import { UwsFallbackError } from './ws/uws.js';
import { ListenError } from './ws/server.js';
import { intOption, parseArgs, take, wantsHelp } from './cli-args.js';
import { DEMO_USAGE, SERVE_USAGE, SIM_USAGE, TOKEN_USAGE, USAGE } from './cli-usage.js';

/** Commands whose usage is printed here; the others (replay, migrate, eta-eval, bench) answer --help themselves. */
const COMMAND_USAGE: Record<string, string> = { serve: SERVE_USAGE, token: TOKEN_USAGE, demo: DEMO_USAGE, sim: SIM_USAGE };


/** Runs one command; `env` is the process environment read once (see config/environment.ts). */
export async function main(argv: string[], env: EnvSource = readEnvironment()): Promise<number> {
  const [cmd, ...rest] = argv;
  const usage = cmd !== undefined && Object.hasOwn(COMMAND_USAGE, cmd) ? COMMAND_USAGE[cmd] : undefined;
  if (usage !== undefined && wantsHelp(rest)) {
    process.stdout.write(usage + '\n');
    return 0;
  }
  try {
    switch (cmd) {
      case 'serve':
        return await serve(rest, env);
      case 'demo': {
        const { runDemo } = await import('./sim/demo.js');
        return await runDemo(rest, { env });
      }
      case 'token':
        return await token(rest, env);
      case 'sim': {
        const { runMarketSim } = await import('./sim/market/market-sim-cli.js');
        return await runMarketSim(rest);
      }
      case 'bench':
        return await bench(rest);
      case 'migrate': {
        const { runMigrate } = await import('./storage/cassandra/cassandra-migrate-cli.js');
        return await runMigrate(rest, env);
      }
      case 'replay': {
        const { runReplay } = await import('./sim/replay.js');
        return await runReplay(rest, env);
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
    if (e instanceof StartError) {
      process.stderr.write(`taxiway: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/**
 * `taxiway bench`: the benchmarks use dev dependencies (autocannon, fastify, geokdbush), so they are
 * loaded only here, and a production install (`npm ci --omit=dev`) gets a line saying what to install.
 */
async function bench(argv: string[]): Promise<number> {
  let mod: { runBenchCli(argv: string[]): Promise<number> };
  try {
    // The suite lives beside src (benchmarks/), compiled to dist/benchmarks; only this dynamic import reaches it.
    mod = await import('../benchmarks/cli.js');
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw e;
    process.stderr.write(`taxiway bench needs the dev dependencies (${(e as Error).message.split('\n')[0]}): run npm install (without --omit=dev) in the taxiway folder\n`);
    return 1;
  }
  return await mod.runBenchCli(argv);
}

async function serve(argv: string[], env: EnvSource): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(SERVE_USAGE + '\n');
    return 0;
  }
  const { options, positional } = parseArgs(argv);
  if (positional.length) throw new ConfigError(`unexpected argument ${positional[0]}`);
  const config = loadConfig(flagsToEnv(options, env));
  // Loaded after the configuration is valid, so a bad setting is reported before the server's modules load.
  const { startApp } = await import('./app.js');
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

async function token(argv: string[], env: EnvSource): Promise<number> {
  const { options } = parseArgs(argv);
  const role = take(options, 'role');
  const sub = take(options, 'sub');
  const ttl = intOption(take(options, 'ttl'), 'ttl', 3600, 1, 10 * 365 * 86400);
  const productsArg = take(options, 'products');
  let products: readonly string[] | undefined;
  if (productsArg !== undefined) {
    const p = checkProductList(productsArg.split(','));
    if (typeof p === 'string') throw new ConfigError(`--products ${p}`);
    products = p;
  }
  if (!role || !ROLES.includes(role as Role)) throw new ConfigError('--role must be driver, rider or ops');
  if (!sub) throw new ConfigError('--sub is required (the driver, rider or ops user id)');
  const config = loadConfig(flagsToEnv(options, env));
  const secret = config.authSecret ?? loadOrCreateSecret(config.dataDir).secret;
  process.stdout.write((await signToken(secret, sub, role as Role, ttl, { products })) + '\n');
  return 0;
}
