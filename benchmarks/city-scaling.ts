// Scale-out by city (issue #17): N nodes, each fed its own city's fleet in-process, once all serving every city and once each serving its own; CPU per node and per fix, foreign batches received, fixes/s.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { ROOT, ProcSampler, gitCommit, machineInfo, procSample, promValue, scrape } from './lib/procs.js';
import { startTaxiway } from './lib/servers.js';
import type { RunningServer } from './lib/servers.js';
import { CITY, log, round, sleep } from './lib/util.js';

const { values: o } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    drivers: { type: 'string', default: '20000' },
    hz: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '5' },
    seed: { type: 'string', default: '7' },
  },
});
const NODES = Number(o.nodes), N = Number(o.drivers), HZ = Number(o.hz), SECONDS = Number(o.seconds), WARMUP = Number(o.warmup), SEED = Number(o.seed);
/** City i lies i degrees east of the synthetic fleet's centre (cityPoints: a 30 km disc), in a 1° square. */
const cityName = (i: number): string => `c${i}`;
const square = (i: number) => {
  const lng = CITY.lng + i, lat = CITY.lat;
  return { type: 'Polygon', coordinates: [[[lng - 0.5, lat - 0.5], [lng + 0.5, lat - 0.5], [lng + 0.5, lat + 0.5], [lng - 0.5, lat + 0.5], [lng - 0.5, lat - 0.5]]] };
};

interface Phase {
  /** % of one core per node, over the window. */
  cpuPct: number[];
  redisCpuPct: number;
  /** Fixes per second ingested by each node (its own city's), and by all. */
  fixesPerS: number[];
  totalFixesPerS: number;
  /** Mirrored drivers each node applied per second (other nodes' fixes of cities it serves). */
  mirroredPerS: number[];
  /** CPU per fix a node ingested, µs (its share of every cost, its own and the mirror's). */
  usPerOwnFix: number[];
  foreignCores: number;
}

async function startRedis(): Promise<{ url: string; pid: number; stop(): void }> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-bench-redis-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    try {
      await r.connect();
      await r.ping();
      r.disconnect();
      return { url, pid: proc.pid!, stop: () => { proc.kill('SIGKILL'); fs.rmSync(dir, { recursive: true, force: true }); } };
    } catch {
      r.disconnect();
      await sleep(100);
    }
  }
  proc.kill('SIGKILL');
  throw new Error('redis-server did not start');
}

/** Start NODES nodes on `redisUrl` (node i serving `serve(i)`), feed each its own city, sample CPU. */
async function phase(redis: { url: string; pid: number }, citiesFile: string, serve: (i: number) => string): Promise<Phase> {
  const prefix = `taxiway-bench-cities:${crypto.randomBytes(4).toString('hex')}:`;
  const nodes: RunningServer[] = [];
  for (let i = 0; i < NODES; i++) {
    nodes.push(await startTaxiway({ env: { REDIS_URL: redis.url, TAXIWAY_REDIS_PREFIX: prefix, TAXIWAY_NODE_ID: `n${i}`, TAXIWAY_CITIES: citiesFile, TAXIWAY_SERVE_CITIES: serve(i) } }));
  }
  try {
    for (let i = 0; i < NODES; i++) {
      await nodes[i]!.child.call({ cmd: 'synthetic', n: N, seed: SEED + i, prefix: `cs${i}-`, hz: HZ, status: 'available', dLng: i }, 'synthetic-started');
    }
    await sleep(WARMUP * 1000);
    const count = async () => Promise.all(nodes.map((n) => n.child.call<{ accepted: number; t: number }>({ cmd: 'counters' }, 'counters')));
    const mirrored = async () => Promise.all(nodes.map(async (n) => promValue(await scrape(`${n.url}/metrics`), 'taxiway_fleet_mirror_drivers_total', { dir: 'received' })));
    const c0 = await count();
    const m0 = await mirrored();
    const t0 = Date.now();
    const pids = [...nodes.map((n) => n.pid), ...(procSample(redis.pid) ? [redis.pid] : [])];
    const sampler = new ProcSampler(pids).start();
    await sleep(SECONDS * 1000);
    const usage = sampler.stop();
    const c1 = await count();
    const m1 = await mirrored();
    const dt = (Date.now() - t0) / 1000;
    const fixesPerS = nodes.map((_, i) => Math.round(((c1[i]!.accepted - c0[i]!.accepted) * 1000) / (c1[i]!.t - c0[i]!.t)));
    const cpuPct = nodes.map((n) => round(usage[n.pid]?.cpuPct ?? NaN));
    return {
      cpuPct, redisCpuPct: round(usage[redis.pid]?.cpuPct ?? NaN), fixesPerS, totalFixesPerS: fixesPerS.reduce((a, b) => a + b, 0),
      mirroredPerS: nodes.map((_, i) => Math.round((m1[i]! - m0[i]!) / dt)),
      usPerOwnFix: nodes.map((_, i) => round((cpuPct[i]! / 100) * 1e6 / Math.max(1, fixesPerS[i]!))),
      foreignCores: round(sampler.machine.foreignCores),
    };
  } finally {
    for (const n of nodes) await n.stop();
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-bench-cities-'));
  const citiesFile = path.join(dir, 'cities.json');
  fs.writeFileSync(citiesFile, JSON.stringify({ cities: Array.from({ length: NODES }, (_, i) => ({ name: cityName(i), timezone: 'UTC', boundary: square(i) })) }));
  const redis = await startRedis();
  log(`city-scaling: ${NODES} nodes, ${N} drivers at ${HZ} Hz per node's city (${NODES * N * HZ} fixes/s offered), ${WARMUP} s warm-up + ${SECONDS} s measured`);
  try {
    // Same load generator, same run: first every node serving every city, then each its own.
    const all = await phase(redis, citiesFile, () => '*');
    log(`all serve all: cpu ${all.cpuPct.join(' / ')}%, ${all.totalFixesPerS} fixes/s, mirrored ${all.mirroredPerS.join(' / ')}/s`);
    const own = await phase(redis, citiesFile, (i) => cityName(i));
    log(`each its city: cpu ${own.cpuPct.join(' / ')}%, ${own.totalFixesPerS} fixes/s, mirrored ${own.mirroredPerS.join(' / ')}/s`);
    const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0);
    // What a node serving every city spends per fix of another city: its CPU less its own fixes at the cost per
    // own fix it has when it serves its city only, over the other cities' fixes it applied.
    const foreign = all.cpuPct.map((c, i) => round(((c / 100) * 1e6 - all.fixesPerS[i]! * own.usPerOwnFix[i]!) / Math.max(1, all.mirroredPerS[i]!)));
    const result = {
      machine: machineInfo(), commit: gitCommit(), nodes: NODES, drivers_per_city: N, hz: HZ, seconds: SECONDS,
      all_serve_all: all, each_own_city: own,
      us_per_foreign_fix_when_serving_all: foreign,
      foreign_fixes_applied_per_s_when_serving_own: sum(own.mirroredPerS),
      aggregate_fixes_per_s_ratio_own_vs_all: round(own.totalFixesPerS / Math.max(1, all.totalFixesPerS)),
    };
    const out = path.join(ROOT, 'benchmarks', 'results', 'city-scaling.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
    process.stdout.write(JSON.stringify(result, null, 1) + '\n');
  } finally {
    redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
