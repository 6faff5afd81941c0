// Job writes on one Redis vs a 3-primary Redis Cluster (jobs of one city, or spread over six): RedisJobRepo create+offer+release.
import { parseArgs } from 'node:util';
import os from 'node:os';
import { Redis } from 'ioredis';
import { redisConnection } from '../src/bus/redis-connection.js';
import type { RedisClient } from '../src/bus/redis-connection.js';
import type { JobDoc } from '../src/matching/job-repo.js';
import { RedisJobRepo } from '../src/matching/redis-job-repo.js';
import { createLogger } from '../src/observability/logger.js';
import { newJobId } from '../src/protocol/job-id.js';
import { RedisServer } from '../test/helpers/redis.js';
import { RedisClusterSetup } from '../test/helpers/redis-cluster.js';
import { log } from './lib/util.js';

const { values: o } = parseArgs({
  options: {
    jobs: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '32' },
    reps: { type: 'string', default: '3' },
  },
});
const JOBS = Number(o.jobs), CONC = Number(o.concurrency), REPS = Number(o.reps);
const CITIES = ['porto', 'lisbon', 'dublin', 'madrid', 'london', 'paris'];

function doc(city: string): JobDoc {
  const now = Date.now();
  return {
    rec: { id: newJobId(city), state: 'dispatching', rider: 'r', driver: null, pickup: { lat: 1, lng: 2 }, dropoff: null, product: 'taxi', city, created_ts: now, updated_ts: now, times: { dispatching: now } },
    seq: 1, attempts: 0, offer: null, offerExpires: 0, tried: [], version: 1,
  };
}

/** One job's dispatch writes (create, offer claim, offer released); the latency of each, ms. */
async function jobWrites(repo: RedisJobRepo, city: string, lat: number[]): Promise<void> {
  const d = doc(city);
  let t = performance.now();
  await repo.create(d);
  lat.push(performance.now() - t);
  const drv = `bd_${d.rec.id}`;
  const offered: JobDoc = { ...structuredClone(d), offer: drv, offerExpires: Date.now() + 10_000, attempts: 1 };
  t = performance.now();
  if ((await repo.commit(offered, 1, [{ op: 'claimOffer', driver: drv }])) !== 'ok') throw new Error('commit failed');
  lat.push(performance.now() - t);
  t = performance.now();
  if ((await repo.commit({ ...structuredClone(offered), offer: null, offerExpires: 0 }, 2, [{ op: 'releaseOffer', driver: drv }])) !== 'ok') throw new Error('commit failed');
  lat.push(performance.now() - t);
}

const q = (xs: number[], p: number): number => Math.round([...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]! * 1000) / 1000;

async function run(conn: RedisClient, prefix: string, cities: string[]): Promise<{ writesPerS: number; p50: number; p99: number }> {
  const repo = new RedisJobRepo(conn, prefix);
  for (let i = 0; i < 100; i++) await jobWrites(repo, cities[i % cities.length]!, []); // warm-up
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (next < JOBS) await jobWrites(repo, cities[next++ % cities.length]!, lat);
  }));
  const s = (performance.now() - t0) / 1000;
  return { writesPerS: Math.round(lat.length / s), p50: q(lat, 0.5), p99: q(lat, 0.99) };
}

async function main(): Promise<void> {
  if (RedisClusterSetup.skip()) return log('redis-cluster-commits: skipped, redis-server or redis-cli is not installed');
  const single = await RedisServer.start();
  const cluster = await RedisClusterSetup.start();
  const logger = createLogger('silent');
  const one = new Redis(single.url);
  const many = redisConnection(cluster.target, logger, 'bench');
  try {
    log(`redis-cluster-commits: ${JOBS} jobs × 3 writes per run, ${CONC} jobs in flight, no WAIT; ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}`);
    const configs: Array<{ name: string; conn: RedisClient; cities: string[] }> = [
      { name: 'one Redis, 1 city', conn: one, cities: CITIES.slice(0, 1) },
      { name: 'one Redis, 6 cities', conn: one, cities: CITIES },
      { name: 'Redis Cluster (3 primaries), 1 city', conn: many, cities: CITIES.slice(0, 1) },
      { name: 'Redis Cluster (3 primaries), 6 cities', conn: many, cities: CITIES },
    ];
    const results = configs.map(() => [] as Array<Awaited<ReturnType<typeof run>>>);
    // Interleaved repetitions, medians reported: the machine is shared and noisy.
    for (let rep = 0; rep < REPS; rep++) for (const [i, c] of configs.entries()) results[i]!.push(await run(c.conn, `bcc${rep}_${i}:`, c.cities));
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    log(`medians of ${REPS} interleaved runs`);
    log('| Redis | writes/s | p50 ms | p99 ms |');
    log('|---|---|---|---|');
    for (const [i, c] of configs.entries()) {
      const rs = results[i]!;
      log(`| ${c.name} | ${med(rs.map((r) => r.writesPerS))} | ${med(rs.map((r) => r.p50))} | ${med(rs.map((r) => r.p99))} |`);
    }
  } finally {
    one.disconnect();
    many.disconnect();
    await cluster.destroy();
    await single.destroy();
  }
}

await main();
