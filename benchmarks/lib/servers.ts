// Starting the servers under test as child processes: taxiway (bench harness around startApp), and the
// naive and fastify baselines. Each reports its port over IPC and stops on command.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Child, forkChild } from './procs.js';

export const BENCH_SECRET = 'bench-secret-0123456789abcdef';

export interface RunningServer {
  name: string;
  child: Child;
  port: number;
  pid: number;
  url: string;
  secret: string;
  /** taxiway with TAXIWAY_HEALTH_PORT: the health listener's port. */
  healthPort?: number;
  stop(): Promise<void>;
}

export interface TaxiwayServerOptions {
  env?: Record<string, string>;
  /** Directory for a --cpu-prof profile of the server; none when unset. */
  cpuProfDir?: string;
  heapMb?: number;
}

/** The benches create jobs far faster than any real rider (one rider, full speed, from one address): lift the job limits. */
const BENCH_JOB_LIMITS = { TAXIWAY_JOB_RATE_PER_RIDER: '0', TAXIWAY_JOB_RATE_PER_IP: '0', TAXIWAY_MAX_OPEN_JOBS_PER_RIDER: '1000000' };

export async function startTaxiway(o: TaxiwayServerOptions = {}): Promise<RunningServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-bench-'));
  const execArgv: string[] = [];
  if (o.cpuProfDir) {
    fs.mkdirSync(o.cpuProfDir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`);
  }
  if (o.heapMb) execArgv.push(`--max-old-space-size=${o.heapMb}`);
  // Extra node flags for the server under test, e.g. BENCH_SERVER_FLAGS="--trace-gc".
  if (process.env.BENCH_SERVER_FLAGS) execArgv.push(...process.env.BENCH_SERVER_FLAGS.split(/\s+/).filter(Boolean));
  const child = forkChild('server-child.js', {
    name: 'taxiway',
    execArgv,
    env: {
      PORT: '0', HOST: '127.0.0.1', TAXIWAY_AUTH_SECRET: BENCH_SECRET, TAXIWAY_DATA_DIR: dataDir, LOG_LEVEL: 'warn',
      REDIS_URL: '', CASSANDRA_CONTACT_POINTS: '',
      // Every load generator connects from 127.0.0.1 (tens of thousands of sockets): no per-IP limits here.
      TAXIWAY_WS_MAX_SOCKETS_PER_IP: '0', TAXIWAY_WS_UPGRADES_PER_SEC_PER_IP: '0',
      // Load generators send flat out from each simulated driver: the per-driver fix budget would measure
      // itself, not the pipeline, so it is off here (ingest-core.ts measures its cost per fix).
      TAXIWAY_FIX_BUDGET_RATE: '0',
      // The scenarios recorded before the search window (2026-12-04) end a job nobody can take at once;
      // kept so their numbers stay comparable (dispatch-batch.ts measures the window and the batches).
      TAXIWAY_SEARCH_WINDOW_MS: '0',
      // The health listener on its worker thread: the suite times it beside the main port's health routes.
      TAXIWAY_HEALTH_PORT: '0',
      ...BENCH_JOB_LIMITS, ...(o.env ?? {}),
    },
  });
  const ready = await child.wait<{ port: number; pid: number; secret: string; healthPort?: number }>('ready', 60_000);
  return {
    name: 'taxiway', child, port: ready.port, healthPort: ready.healthPort, pid: child.pid, url: `http://127.0.0.1:${ready.port}`, secret: BENCH_SECRET,
    stop: async () => {
      try {
        await child.call({ cmd: 'stop' }, 'stopped', 60_000);
        await child.waitExit(30_000); // a --cpu-prof profile is written at exit
      } catch {
        /* already gone */
      }
      await child.kill(10_000);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Wait until the taxiway node has at least `n` available drivers in its fleet (or time runs out). */
export async function waitAvailable(s: RunningServer, n: number, timeoutMs = 60_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  let have = 0;
  while (Date.now() < end) {
    have = (await s.child.call<{ available: number }>({ cmd: 'info' }, 'info')).available;
    if (have >= n) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return have;
}

export async function startNaive(o: { heapMb?: number; redisUrl?: string } = {}): Promise<RunningServer & { redisPrefix: string }> {
  const redisPrefix = `taxiway-bench:${process.pid}:${crypto.randomBytes(4).toString('hex')}:`;
  const child = forkChild('baselines/naive-ingest.js', {
    name: 'naive',
    execArgv: [`--max-old-space-size=${o.heapMb ?? 1536}`],
    env: { TAXIWAY_AUTH_SECRET: BENCH_SECRET, NAIVE_REDIS_PREFIX: redisPrefix, REDIS_URL: o.redisUrl ?? 'redis://127.0.0.1:6379' },
  });
  const ready = await child.wait<{ port: number }>('ready', 30_000);
  return {
    name: 'naive', child, port: ready.port, pid: child.pid, url: `http://127.0.0.1:${ready.port}`, secret: BENCH_SECRET, redisPrefix,
    stop: async () => {
      try {
        if (child.exited === null) await child.call({ cmd: 'stop' }, 'stopped', 30_000);
      } catch {
        /* crashed (e.g. out of memory): keys are removed by the caller */
      }
      await child.kill(5000);
    },
  };
}

/** The ingest ceiling reference (baselines/floor-ingest.ts): uWS + loc decode + typed arrays, nothing else. */
export async function startFloor(): Promise<RunningServer> {
  const child = forkChild('baselines/floor-ingest.js', { name: 'floor', env: { TAXIWAY_AUTH_SECRET: BENCH_SECRET } });
  const ready = await child.wait<{ port: number }>('ready', 30_000);
  return {
    name: 'floor', child, port: ready.port, pid: child.pid, url: `http://127.0.0.1:${ready.port}`, secret: BENCH_SECRET,
    stop: async () => {
      try {
        if (child.exited === null) await child.call({ cmd: 'stop' }, 'stopped', 10_000);
      } catch {
        /* gone already */
      }
      await child.kill(5000);
    },
  };
}

export async function startFastify(env: Record<string, string>, cpuProfDir?: string): Promise<RunningServer> {
  const execArgv: string[] = [];
  if (cpuProfDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`);
  const child = forkChild('baselines/fastify-nearby.js', { name: 'fastify', execArgv, env: { TAXIWAY_AUTH_SECRET: BENCH_SECRET, ...env } });
  const ready = await child.wait<{ port: number }>('ready', 120_000);
  return {
    name: 'fastify', child, port: ready.port, pid: child.pid, url: `http://127.0.0.1:${ready.port}`, secret: BENCH_SECRET,
    stop: async () => {
      try {
        await child.call({ cmd: 'stop' }, 'stopped', 30_000);
        await child.waitExit(30_000);
      } catch {
        /* gone */
      }
      await child.kill(5000);
    },
  };
}
