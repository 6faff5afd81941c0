// `taxiway bench <scenario> [options]`: the load generator and benchmark scenarios from the command line.
// runBenchCli(argv) is what `npx taxiway bench ...` calls; it prints a JSON result and returns an exit code.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from '../src/cli-args.js';
import { flameGraphSvg, newestProfile, summarizeProfile } from './lib/cpuprofile.js';
import { ROOT } from './lib/procs.js';
import { runDispatch, DISPATCH_DEFAULTS } from './scenarios/dispatch.js';
import { runMixed, MIXED_DEFAULTS } from './scenarios/mixed.js';
import { runFanout, FANOUT_DEFAULTS } from './scenarios/fanout.js';
import { runHttp, HTTP_DEFAULTS } from './scenarios/http.js';
import type { HttpScenario } from './scenarios/http.js';
import { runIngest, runNaiveLadder, INGEST_DEFAULTS } from './scenarios/ingest.js';
import { runMemory } from './scenarios/memory.js';
import { runNearest, NEAREST_DEFAULTS } from './scenarios/nearest.js';
import { runAssignment, ASSIGNMENT_DEFAULTS } from './scenarios/assignment.js';

export const BENCH_USAGE = `usage: taxiway bench <scenario> [options]

scenarios (defaults in brackets):
  ingest     N driver sockets stream fixes into a taxiway node; fixes/s from its counters, CPU/RSS, fix→visible
             --target taxiway|naive|floor [taxiway]  --drivers N [10000]  --loaders N [2]  --mode flat|rate [flat]
             --rate FIXES_PER_S [100000] (rate mode)  --batch N [1: loc; >1: locs of N]  --duration S [15]
             --warmup S [5]  --ack-every K [32]  --window W [2]  --backoff-ms MS [250]  --no-probe  --seed N [1]
  naive      same as: ingest --target naive (ws + msgpack + Map + one Redis GEOADD per fix)
             --ladder: its sustained rate, offered load ×1.5 a step from --start [20000] (--step S [4]) until it
             stops keeping up (stored < 90% of offered, or the Redis queue grows)
  nearest    k nearest within a radius, in-process: taxiway vs geokdbush vs Redis GEOSEARCH
             --drivers N [100000]  --k K [10]  --radius-m M [5000]  --queries N [20000]  --passes P [5]
             --redis-queries N [1000]  --redis-url URL [redis://127.0.0.1:6379]
  assignment batched dispatch, in-process: assignment_ms (jobs × their 16 best drivers, one min-cost assignment)
             and request → offer latency of the batched policy  --drivers N [50000]  --jobs N [500]  --trials N [40]
             --duration S [10]  --rate JOBS_PER_S [50]  --batch-window-ms MS [1000]  --seed N [1]
  memory     bytes of live state per driver   --drivers N [1000000]
  http       autocannon scenarios on a preloaded fleet: nearby (also fastify), eta, healthz, jobs
             --scenarios nearby,eta,healthz,jobs  --duration S [10]  --connections C [64]  --pipelining P [1]
             --cannons N [1] (autocannon processes sharing the connections)
             --preload N [100000]  --pool N [2000] (drivers accepting jobs)  --no-fastify
  dispatch   request→offer latency at a job rate with the fleet streaming (--windows N: N consecutive runs, each reported)
  mixed      GET nearby at a fixed rate (--req-rate 20000) while sockets stream --fix-rate 200000 fixes/s
             --drivers N [50000]  --job-rate R [200]  --duration S [20]  --warmup S [5]  --max-sockets N
  fanout     fix→rider pos latency with many active trips   --trips N [10000]  --duration S [20]
  profile    summarise a .cpuprofile and write its flame graph   profile FILE [--svg OUT]

common:  --json FILE (also write the result there)   --cpu-prof (profile the server: benchmarks/results/profiles/)
         --loaders N   --seed N
The whole suite: npm run bench (quick) / npm run bench:full. See BENCHMARKS.md.`;

type Opts = Record<string, string>;
const num = (o: Opts, k: string, def: number): number => {
  const v = o[k];
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${k} must be a non-negative number`);
  return n;
};

export async function runBenchCli(argv: string[]): Promise<number> {
  const [scenario, ...rest] = argv;
  if (!scenario || scenario === 'help' || scenario === '--help' || scenario === '-h') {
    process.stdout.write(BENCH_USAGE + '\n');
    return scenario ? 0 : 2;
  }
  let parsed;
  try {
    parsed = parseArgs(rest, new Set(['no-probe', 'no-health', 'no-fastify', 'cpu-prof', 'quick', 'full', 'ladder']));
  } catch (e) {
    process.stderr.write(`taxiway bench: ${(e as Error).message}\n`);
    return 2;
  }
  const o = parsed.options;
  const profDir = o['cpu-prof'] ? path.join(ROOT, 'benchmarks', 'results', 'profiles') : undefined;
  const started = Date.now();
  let result: unknown;
  try {
    switch (scenario) {
      case 'ingest':
      case 'naive':
        if (o.ladder) {
          result = await runNaiveLadder({ drivers: num(o, 'drivers', INGEST_DEFAULTS.drivers), loaders: num(o, 'loaders', 2), stepS: num(o, 'step', 4), start: num(o, 'start', 20_000), max: num(o, 'max', 1_000_000), seed: num(o, 'seed', 1) });
          break;
        }
        result = await runIngest({
          ...INGEST_DEFAULTS,
          target: scenario === 'naive' ? 'naive' : ((o.target ?? 'taxiway') as 'taxiway' | 'naive' | 'floor'),
          drivers: num(o, 'drivers', INGEST_DEFAULTS.drivers), loaders: num(o, 'loaders', INGEST_DEFAULTS.loaders),
          mode: (o.mode ?? INGEST_DEFAULTS.mode) as 'flat' | 'rate', rate: num(o, 'rate', INGEST_DEFAULTS.rate),
          batch: num(o, 'batch', INGEST_DEFAULTS.batch), durationS: num(o, 'duration', INGEST_DEFAULTS.durationS),
          warmupS: num(o, 'warmup', INGEST_DEFAULTS.warmupS), ackEvery: num(o, 'ack-every', INGEST_DEFAULTS.ackEvery),
          window: num(o, 'window', INGEST_DEFAULTS.window), backoffMs: num(o, 'backoff-ms', INGEST_DEFAULTS.backoffMs), probe: !o['no-probe'], healthProbe: !o['no-health'], seed: num(o, 'seed', 1), cpuProfDir: profDir,
        });
        if (!['flat', 'rate'].includes(String(o.mode ?? 'flat'))) throw new Error('--mode must be flat or rate');
        break;
      case 'nearest':
        result = await runNearest({
          ...NEAREST_DEFAULTS, drivers: num(o, 'drivers', NEAREST_DEFAULTS.drivers), k: num(o, 'k', 10), radiusM: num(o, 'radius-m', 5000),
          queries: num(o, 'queries', NEAREST_DEFAULTS.queries), passes: num(o, 'passes', NEAREST_DEFAULTS.passes),
          redisQueries: num(o, 'redis-queries', NEAREST_DEFAULTS.redisQueries), redisUrl: o['redis-url'] ?? NEAREST_DEFAULTS.redisUrl, seed: num(o, 'seed', 1),
        });
        break;
      case 'assignment':
        result = await runAssignment({
          ...ASSIGNMENT_DEFAULTS, drivers: num(o, 'drivers', ASSIGNMENT_DEFAULTS.drivers), jobs: num(o, 'jobs', ASSIGNMENT_DEFAULTS.jobs),
          trials: num(o, 'trials', ASSIGNMENT_DEFAULTS.trials), latencyS: num(o, 'duration', ASSIGNMENT_DEFAULTS.latencyS), rate: num(o, 'rate', ASSIGNMENT_DEFAULTS.rate),
          batchWindowMs: num(o, 'batch-window-ms', ASSIGNMENT_DEFAULTS.batchWindowMs), seed: num(o, 'seed', 1),
        });
        break;
      case 'memory':
        result = await runMemory(num(o, 'drivers', 1_000_000));
        break;
      case 'http':
        result = await runHttp({
          ...HTTP_DEFAULTS,
          scenarios: (o.scenarios ? o.scenarios.split(',') : parsed.positional.length ? parsed.positional : HTTP_DEFAULTS.scenarios) as HttpScenario[],
          fastify: !o['no-fastify'], preload: num(o, 'preload', HTTP_DEFAULTS.preload), durationS: num(o, 'duration', HTTP_DEFAULTS.durationS),
          connections: num(o, 'connections', HTTP_DEFAULTS.connections), pipelining: num(o, 'pipelining', HTTP_DEFAULTS.pipelining),
          pool: num(o, 'pool', HTTP_DEFAULTS.pool), loaders: num(o, 'loaders', HTTP_DEFAULTS.loaders), cannons: num(o, 'cannons', HTTP_DEFAULTS.cannons), seed: num(o, 'seed', 1), cpuProfDir: profDir,
        });
        break;
      case 'dispatch':
        result = await runDispatch({
          ...DISPATCH_DEFAULTS, drivers: num(o, 'drivers', DISPATCH_DEFAULTS.drivers), jobRate: num(o, 'job-rate', DISPATCH_DEFAULTS.jobRate),
          durationS: num(o, 'duration', DISPATCH_DEFAULTS.durationS), warmupS: num(o, 'warmup', DISPATCH_DEFAULTS.warmupS),
          maxSockets: num(o, 'max-sockets', 0), loaders: num(o, 'loaders', DISPATCH_DEFAULTS.loaders), seed: num(o, 'seed', 1), cpuProfDir: profDir,
          windows: num(o, 'windows', DISPATCH_DEFAULTS.windows),
        });
        break;
      case 'mixed':
        result = await runMixed({
          ...MIXED_DEFAULTS, reqRate: num(o, 'req-rate', MIXED_DEFAULTS.reqRate), fixRate: num(o, 'fix-rate', MIXED_DEFAULTS.fixRate),
          drivers: num(o, 'drivers', MIXED_DEFAULTS.drivers), preload: num(o, 'preload', MIXED_DEFAULTS.preload), connections: num(o, 'connections', MIXED_DEFAULTS.connections),
          durationS: num(o, 'duration', MIXED_DEFAULTS.durationS), warmupS: num(o, 'warmup', MIXED_DEFAULTS.warmupS), seed: num(o, 'seed', 1),
        });
        break;
      case 'fanout':
        result = await runFanout({
          ...FANOUT_DEFAULTS, trips: num(o, 'trips', FANOUT_DEFAULTS.trips), durationS: num(o, 'duration', FANOUT_DEFAULTS.durationS),
          loaders: num(o, 'loaders', FANOUT_DEFAULTS.loaders), seed: num(o, 'seed', 1), cpuProfDir: profDir,
        });
        break;
      case 'profile': {
        const file = parsed.positional[0] ?? newestProfile(path.join(ROOT, 'benchmarks', 'results', 'profiles'));
        if (!file) throw new Error('profile: give a .cpuprofile file');
        const svg = o.svg ?? file.replace(/\.cpuprofile$/, '.svg');
        fs.writeFileSync(svg, flameGraphSvg(file, ROOT, path.basename(file)));
        result = { file, svg, ...summarizeProfile(file, ROOT, num(o, 'top', 30)) };
        break;
      }
      case 'suite': {
        const { runSuite } = await import('./run.js');
        return await runSuite(o.full ? 'full' : 'quick', rest);
      }
      default:
        process.stderr.write(`taxiway bench: unknown scenario ${scenario}\n\n${BENCH_USAGE}\n`);
        return 2;
    }
  } catch (e) {
    process.stderr.write(`taxiway bench ${scenario}: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
  if (profDir && scenario !== 'profile') {
    const f = newestProfile(profDir, started);
    if (f) {
      const svg = f.replace(/\.cpuprofile$/, '.svg');
      fs.writeFileSync(svg, flameGraphSvg(f, ROOT, `${scenario} server profile`));
      if (Array.isArray(result)) result = { runs: result };
      (result as Record<string, unknown>).profile = { file: path.relative(ROOT, f), flameGraph: path.relative(ROOT, svg), top: summarizeProfile(f, ROOT, 25).byFn };
    }
  }
  const text = JSON.stringify(result, null, 1);
  if (o.json) fs.writeFileSync(o.json, text + '\n');
  process.stdout.write(text + '\n');
  return 0;
}

// Run directly: node dist/benchmarks/cli.js <scenario> ...
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const code = await runBenchCli(process.argv.slice(2));
  process.stdout.write('', () => process.exit(code));
}
