// Cluster, real Redis and three node processes: one batch solver per city at a time (the Redis lease); SIGKILL of the solver → another solves within seconds; no driver ever holds two offers; every job ends final.
import t from 'tap';
import { Redis } from 'ioredis';
import { decodeFrame } from '../src/protocol/codec.js';
import { isFinalState } from '../src/protocol/job-record.js';
import { Client, http, sleep } from './helpers/server.js';
import { redisSkip, stopTestRedis, testRedisUrl } from './helpers/redis.js';
import { startCluster } from './helpers/cluster.js';
import type { Cluster, Node } from './helpers/cluster.js';

const skip = await redisSkip();
const AT = { lat: 43.7384, lng: 7.4246 };
const BATCH_MS = 500;

/** A driver that accepts every offer and runs the trip to completion; counts offers held at once. */
async function busyDriver(c: Cluster, node: Node, id: string, lat: number, violations: string[]): Promise<Client> {
  const d = await Client.open(`${node.wsUrl}/v1/driver/ws`, await c.token('driver', id));
  await d.waitFor((f) => f.t === 'hello');
  await d.request({ t: 'loc', lat, lng: AT.lng, ts: Date.now() });
  await d.request({ t: 'status', s: 'available' });
  let holding: string | null = null;
  const queue: string[] = [];
  const run = async (): Promise<void> => {
    while (queue.length) {
      const job = queue.shift()!;
      for (const step of ['accept', 'arrived', 'start', 'complete']) {
        const r = await d.request({ t: step, job });
        if (r.t !== 'ack') break;
      }
      holding = null;
      await d.request({ t: 'loc', lat, lng: AT.lng, ts: Date.now() });
    }
  };
  d.ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) return;
    const f = decodeFrame(new Uint8Array(data));
    if (f.t !== 'offer') return;
    if (holding !== null) violations.push(`${id} got ${String(f.job)} while holding ${holding}`);
    holding = String(f.job);
    queue.push(holding);
    if (queue.length === 1) void run();
  });
  return d;
}

if (skip) t.test('batched dispatch in a cluster', { skip }, async () => {});
else {
  const url = (await testRedisUrl())!;
  t.teardown(() => stopTestRedis());

  t.test('one solver per city; SIGKILL of the solver hands over within seconds; no driver holds two offers; every job ends final', async (t) => {
    const c = await startCluster(url, 3, {
      TAXIWAY_DISPATCH_POLICY: 'batched', TAXIWAY_BATCH_WINDOW_MS: String(BATCH_MS), TAXIWAY_SEARCH_WINDOW_MS: '30000',
      TAXIWAY_OFFER_TIMEOUT_MS: '3000', TAXIWAY_JOB_RATE_PER_RIDER: '0', TAXIWAY_JOB_RATE_PER_IP: '0', TAXIWAY_MAX_OPEN_JOBS_PER_RIDER: '1000',
    });
    t.teardown(() => c.stop());
    const redis = new Redis(url);
    t.teardown(() => redis.disconnect());
    const key = `${c.prefix}lease:{world}dispatch`;
    const holder = async (): Promise<Node | undefined> => {
      const tok = await redis.get(key);
      return c.nodes.find((n) => tok?.startsWith(`${n.name}-`));
    };
    const rt = await c.token('rider', 'cb-r');
    const jobs: string[] = [];
    const create = async (via: Node, dLat: number): Promise<void> => {
      const r = await http('POST', `${via.url}/v1/jobs`, rt, { pickup: { lat: AT.lat + dLat, lng: AT.lng } });
      t.equal(r.status, 201);
      jobs.push(r.body.id);
    };
    // A first job makes every node start the city's batch loop; one of them takes the lease.
    await create(c.nodes[0]!, 0);
    let solver: Node | undefined;
    for (let i = 0; i < 40 && !solver; i++) {
      await sleep(100);
      solver = await holder();
    }
    t.ok(solver, `a solver holds the city lease (${solver?.name})`);
    const others = c.nodes.filter((n) => n !== solver);
    // Sample the holder over several batches: always the same single token.
    const tokens = new Set<string>();
    for (let i = 0; i < 10; i++) {
      tokens.add((await redis.get(key)) ?? '');
      await sleep(BATCH_MS / 2);
    }
    t.equal(tokens.size, 1, 'one solver at a time, renewing its lease');

    const violations: string[] = [];
    const drivers: Client[] = [];
    for (let i = 0; i < 4; i++) drivers.push(await busyDriver(c, others[i % 2]!, `cb-d${i}`, AT.lat + 0.001 * (i + 1), violations));
    for (let i = 0; i < 6; i++) await create(others[i % 2]!, 0.0005 * i);
    await sleep(4000);

    // The solver dies without a word; the survivors hold the drivers and the riders.
    await solver!.stop('SIGKILL');
    const killedAt = Date.now();
    for (let i = 0; i < 4; i++) await create(others[i % 2]!, 0.0007 * i);
    let next: Node | undefined;
    while (Date.now() - killedAt < 15_000) {
      next = await holder();
      if (next && next !== solver) break;
      await sleep(100);
    }
    t.ok(next && next !== solver, `another node took the city within ${Date.now() - killedAt} ms (${next?.name})`);
    t.ok(Date.now() - killedAt < 10_000, 'within a few seconds (lease TTL 2 batch windows + 1 s)');

    // Every job ends final: served by the four drivers in turn (or unfulfilled at the end of its window).
    const deadline = Date.now() + 45_000;
    let states: string[] = [];
    while (Date.now() < deadline) {
      states = await Promise.all(jobs.map(async (j) => (await http('GET', `${others[0]!.url}/v1/jobs/${j}`, rt)).body.state as string));
      if (states.every((s) => isFinalState(s))) break;
      await sleep(300);
    }
    t.ok(states.every((s) => isFinalState(s)), `every job final: ${states.join(',')}`);
    t.ok(states.filter((s) => s === 'completed').length >= jobs.length - 1, 'and (nearly) all of them served');
    t.same(violations, [], 'no driver ever held two offers');
    for (const d of drivers) d.close();
  });
}
