// What cluster mode costs: the same in-process fleet streamed into an embedded node and into a 2-node cluster (Redis fleet mirror), CPU per process, bus bytes, mirror lag.
import { Redis } from 'ioredis';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, ProcSampler, gitCommit, histQuantile, machineInfo, promHistogram, promValue, procSample, scrape } from './lib/procs.js';
import { startTaxiway } from './lib/servers.js';
import type { RunningServer } from './lib/servers.js';
import { log, round, sleep } from './lib/util.js';

const { values: o } = parseArgs({
  options: {
    drivers: { type: 'string', default: '20000' },
    hz: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    seed: { type: 'string', default: '7' },
  },
});
const N = Number(o.drivers), HZ = Number(o.hz), SECONDS = Number(o.seconds), WARMUP = Number(o.warmup), SEED = Number(o.seed);
const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

interface Window { cpuPct: Record<string, number>; rssMb: Record<string, number>; foreignCores: number; fixesPerS: number }

/** Stream the synthetic fleet into `feed`, wait out the warm-up, then sample CPU of `watch` for SECONDS. */
async function measure(feed: RunningServer, watch: Record<string, number>): Promise<Window> {
  await feed.child.call({ cmd: 'synthetic', n: N, seed: SEED, prefix: 'mc-', hz: HZ, status: 'available' }, 'synthetic-started');
  await sleep(WARMUP * 1000);
  const c0 = await feed.child.call<{ accepted: number; t: number }>({ cmd: 'counters' }, 'counters');
  const sampler = new ProcSampler(Object.values(watch)).start();
  await sleep(SECONDS * 1000);
  const usage = sampler.stop();
  const c1 = await feed.child.call<{ accepted: number; t: number }>({ cmd: 'counters' }, 'counters');
  const cpuPct: Record<string, number> = {}, rssMb: Record<string, number> = {};
  for (const [name, pid] of Object.entries(watch)) {
    cpuPct[name] = usage[pid]?.cpuPct ?? NaN;
    rssMb[name] = usage[pid]?.rssLastMb ?? NaN;
  }
  return { cpuPct, rssMb, foreignCores: sampler.machine.foreignCores, fixesPerS: Math.round(((c1.accepted - c0.accepted) * 1000) / (c1.t - c0.t)) };
}

async function main(): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    log(`mirror-cost: skipped, no Redis at ${redisUrl} (${(e as Error).message})`);
    redis.disconnect();
    return;
  }
  const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1] ?? NaN);
  if (!procSample(redisPid)) log(`mirror-cost: redis-server (pid ${redisPid}) is not on this machine: its CPU is not measured`);
  log(`mirror-cost: ${N} drivers at ${HZ} Hz (${N * HZ} fixes/s), ${WARMUP} s warm-up + ${SECONDS} s measured`);

  // 1. Embedded: the baseline, one process, no mirror.
  const solo = await startTaxiway();
  const embedded = await measure(solo, { node: solo.pid });
  await solo.stop();
  log(`embedded: node ${embedded.cpuPct.node}% cpu, ${embedded.fixesPerS} fixes/s`);

  // 2. Cluster: node A takes the fixes, node B only mirrors them; both share Redis under a fresh prefix.
  const prefix = `taxiway-bench-mirror:${crypto.randomBytes(4).toString('hex')}:`;
  const env = (id: string): Record<string, string> => ({ REDIS_URL: redisUrl, TAXIWAY_REDIS_PREFIX: prefix, TAXIWAY_NODE_ID: id });
  const a = await startTaxiway({ env: env('a') });
  const b = await startTaxiway({ env: env('b') });
  const aText0 = await scrape(`${a.url}/metrics`);
  const bytes0 = promValue(aText0, 'taxiway_bus_published_bytes');
  const msgs0 = promValue(aText0, 'taxiway_bus_messages', { dir: 'published' });
  const t0 = Date.now();
  const cluster = await measure(a, { a: a.pid, b: b.pid, ...(procSample(redisPid) ? { redis: redisPid } : {}) });
  const dt = (Date.now() - t0) / 1000;
  const aText = await scrape(`${a.url}/metrics`);
  const bText = await scrape(`${b.url}/metrics`);
  const bytesPerS = (promValue(aText, 'taxiway_bus_published_bytes') - bytes0) / dt;
  const msgsPerS = (promValue(aText, 'taxiway_bus_messages', { dir: 'published' }) - msgs0) / dt;
  const lag = promHistogram(bText, 'taxiway_fleet_mirror_lag_seconds');
  const bInfo = await b.child.call<{ drivers: number }>({ cmd: 'info' }, 'info');
  await a.stop();
  await b.stop();
  // The mirror's keys under the bench prefix.
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();

  const result = {
    machine: machineInfo(), commit: gitCommit(), drivers: N, hz: HZ, seconds: SECONDS,
    embedded, cluster,
    bus: { bytes_per_s: Math.round(bytesPerS), bytes_per_fix: round(bytesPerS / Math.max(1, cluster.fixesPerS)), messages_per_s: round(msgsPerS) },
    mirror_lag_ms: { p50: histQuantile(lag, 0.5) * 1000, p99: histQuantile(lag, 0.99) * 1000 },
    node_b_drivers: bInfo.drivers,
    extra_cpu_pct_on_a: round(cluster.cpuPct.a! - embedded.cpuPct.node!),
  };
  const out = path.join(ROOT, 'benchmarks', 'results', 'mirror-cost.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
  process.stdout.write(JSON.stringify(result, null, 1) + '\n');
}

await main();
