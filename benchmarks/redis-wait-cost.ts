// What a job commit's WAIT for a replica costs: RedisJobRepo create+offer+release commits against a private primary + replica, with and without WAIT.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { JobDoc } from '../src/matching/job-repo.js';
import { RedisJobRepo } from '../src/matching/redis-job-repo.js';
import { log, sleep } from './lib/util.js';

const { values: o } = parseArgs({
  options: {
    jobs: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '32' },
    'wait-ms': { type: 'string', default: '50' },
    reps: { type: 'string', default: '5' },
  },
});
const JOBS = Number(o.jobs), CONC = Number(o.concurrency), WAIT_MS = Number(o['wait-ms']), REPS = Number(o.reps);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

async function server(dir: string, args: string[]): Promise<{ port: number; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--repl-diskless-sync-delay', '0', ...args], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    try {
      await r.connect();
      await r.ping();
      r.disconnect();
      return { port, proc };
    } catch {
      r.disconnect();
      await sleep(50);
    }
  }
  throw new Error('redis-server did not start');
}

let n = 0;
function doc(): JobDoc {
  const now = Date.now();
  return {
    rec: { id: `wc_${process.pid}_${n++}`, state: 'dispatching', rider: 'r', driver: null, pickup: { lat: 1, lng: 2 }, dropoff: null, product: 'taxi', city: 'world', created_ts: now, updated_ts: now, times: { dispatching: now } },
    seq: 1, attempts: 0, offer: null, offerExpires: 0, tried: [], version: 1,
  };
}

/** One job's dispatch writes: create, offer (claim), offer released. Returns the latency of each write, ms. */
async function jobWrites(repo: RedisJobRepo, lat: number[]): Promise<void> {
  const d = doc();
  let t = performance.now();
  await repo.create(d);
  lat.push(performance.now() - t);
  const drv = `wd_${d.rec.id}`;
  const offered: JobDoc = { ...structuredClone(d), offer: drv, offerExpires: Date.now() + 10_000, attempts: 1 };
  t = performance.now();
  if ((await repo.commit(offered, 1, [{ op: 'claimOffer', driver: drv }])) !== 'ok') throw new Error('commit failed');
  lat.push(performance.now() - t);
  t = performance.now();
  if ((await repo.commit({ ...structuredClone(offered), offer: null, offerExpires: 0 }, 2, [{ op: 'releaseOffer', driver: drv }])) !== 'ok') throw new Error('commit failed');
  lat.push(performance.now() - t);
}

const q = (xs: number[], p: number): number => Math.round([...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]! * 1000) / 1000;

async function run(port: number, replicas: number, conc: number): Promise<{ writesPerS: number; p50: number; p99: number; unreplicated: number }> {
  const r = new Redis({ port, maxRetriesPerRequest: 1 });
  let unreplicated = 0;
  const repo = new RedisJobRepo(r, `wcost:${replicas}:${conc}:`, { durability: { replicas, timeoutMs: WAIT_MS }, onUnreplicated: () => void unreplicated++ });
  const lat: number[] = [];
  for (let i = 0; i < 200; i++) await jobWrites(repo, []); // warm-up
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, async () => {
    while (next < JOBS) {
      next++;
      await jobWrites(repo, lat);
    }
  }));
  const s = (performance.now() - t0) / 1000;
  r.disconnect();
  return { writesPerS: Math.round(lat.length / s), p50: q(lat, 0.5), p99: q(lat, 0.99), unreplicated };
}

async function main(): Promise<void> {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    log('redis-wait-cost: skipped, redis-server is not installed');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-wait-cost-'));
  fs.mkdirSync(path.join(dir, 'p'));
  fs.mkdirSync(path.join(dir, 'r'));
  const primary = await server(path.join(dir, 'p'), []);
  const replica = await server(path.join(dir, 'r'), ['--replicaof', '127.0.0.1', String(primary.port)]);
  try {
    const probe = new Redis({ port: primary.port });
    while (!/connected_slaves:1/.test(await probe.info('replication'))) await sleep(50);
    probe.disconnect();
    log(`redis-wait-cost: ${JOBS} jobs × 3 writes (create, offer, release) per run; WAIT timeout ${WAIT_MS} ms; ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}`);
    // Interleaved repetitions, medians reported: the machine is shared and noisy.
    const configs = [1, CONC].flatMap((conc) => [0, 1].map((replicas) => ({ conc, replicas })));
    const results = configs.map(() => [] as Array<Awaited<ReturnType<typeof run>>>);
    for (let rep = 0; rep < REPS; rep++) for (const [i, c] of configs.entries()) results[i]!.push(await run(primary.port, c.replicas, c.conc));
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    log(`medians of ${REPS} interleaved runs`);
    log('| writes in flight | WAIT | writes/s | p50 ms | p99 ms | unreplicated |');
    log('|---|---|---|---|---|---|');
    for (const [i, c] of configs.entries()) {
      const rs = results[i]!;
      log(`| ${c.conc} | ${c.replicas ? 'WAIT 1' : 'none'} | ${med(rs.map((r) => r.writesPerS))} | ${med(rs.map((r) => r.p50))} | ${med(rs.map((r) => r.p99))} | ${rs.reduce((a, r) => a + r.unreplicated, 0)} |`);
    }
    // The replica gone: the first write waits WAIT_MS, the next second's writes skip WAIT (the back-off).
    replica.proc.kill('SIGKILL');
    await sleep(200);
    const r = await run(primary.port, 1, CONC);
    log(`| ${CONC} | WAIT 1, replica down | ${r.writesPerS} | ${r.p50} | ${r.p99} | ${r.unreplicated} |`);
  } finally {
    primary.proc.kill('SIGKILL');
    replica.proc.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
