// Cluster mode through Redis Sentinel: SIGKILL of the Redis primary while jobs are being created and offered;
// after the failover every job ends final, no driver ever holds two offers or two jobs, /readyz showed the gap,
// new jobs and cross-node pub/sub work again. Real processes: 2 taxiway nodes, primary + replica + 3 Sentinels.
import t from 'tap';
import { isFinalState } from '../src/protocol/job-record.js';
import { Client, http, sleep } from './helpers/server.js';
import type { Frame } from './helpers/server.js';
import { startCluster } from './helpers/cluster.js';
import type { Cluster, Node } from './helpers/cluster.js';
import { SentinelSetup } from './helpers/redis-sentinel.js';

/** Send a driver step until it is acknowledged; false when refused for good (conflict, not found) or after 20 tries. */
async function step(d: Client, job: string, t: string): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    try {
      const r = await d.request({ t, job }, 8000);
      if (r.t === 'ack') return true;
      if (r.code === 'conflict' || r.code === 'not_found') return false;
    } catch {
      /* no answer yet (Redis between primaries): try again */
    }
    await sleep(300);
  }
  return false;
}

/**
 * A driver that accepts two offers out of three after a short think, drives the trip to completion at
 * once, and records any offer that arrives while it holds another offer or an active job.
 */
async function botDriver(c: Cluster, node: Node, id: string, lat: number, lng: number, violations: string[]): Promise<Client> {
  const d = await Client.open(`${node.wsUrl}/v1/driver/ws`, await c.token('driver', id));
  await d.waitFor((f) => f.t === 'hello');
  await d.request({ t: 'loc', lat, lng, ts: Date.now() });
  await d.request({ t: 'status', s: 'available' });
  let holding: string | null = null;
  let active: string | null = null;
  // The active job whose `complete` this driver has sent at least once. A `complete` answered `unavailable`
  // during the failover may still have been applied (the write reached a primary whose answer was lost), so the
  // server may rightly free the driver and offer it the next job before the retried `complete` is acked. From the
  // driver's side, only an offer before its first `complete` proves a double assignment.
  let completing: string | null = null;
  d.ws.on('message', () => {
    const f = d.frames.at(-1) as Frame;
    if (f.t === 'offer' && f.job !== holding) {
      if (holding) violations.push(`${id} offered ${f.job} while holding ${holding}`);
      if (active && completing !== active) violations.push(`${id} offered ${f.job} while active on ${active}`);
      const job = (holding = f.job as string);
      setTimeout(async () => {
        if (holding !== job) return;
        const accept = Math.random() < 0.67;
        holding = null; // answered: from here on the driver holds no offer (as in cluster-e2e)
        const ok = await step(d, job, accept ? 'accept' : 'decline');
        if (!accept || !ok) return;
        if (active && completing !== active) violations.push(`${id} accepted ${job} while active on ${active}`);
        active = job;
        for (const s of ['arrived', 'start', 'complete']) {
          if (s === 'complete') completing = job;
          if (!(await step(d, job, s))) break;
        }
        active = null;
        completing = null;
      }, 20 + Math.random() * 80);
    } else if (f.t === 'offer_revoked' && f.job === holding) holding = null;
  });
  return d;
}

const skip = SentinelSetup.skip();
if (skip) t.test('cluster through Sentinel: failover during dispatch', { skip }, async () => {});
else {
  t.test('cluster through Sentinel: SIGKILL of the Redis primary during dispatch', async (t) => {
    const setup = await SentinelSetup.start({ downAfterMs: 1000 });
    t.teardown(() => setup.destroy());
    const c = await startCluster('', 2, { ...setup.env, TAXIWAY_OFFER_TIMEOUT_MS: '1500', TAXIWAY_MAX_ATTEMPTS: '30' });
    t.teardown(() => c.stop());
    const [A, B] = c.nodes as [Node, Node];
    const violations: string[] = [];
    const drivers: Client[] = [];
    for (let i = 0; i < 10; i++) drivers.push(await botDriver(c, c.nodes[i % 2]!, `sf-d${i}`, 43.70 + i * 0.001, 7.40, violations));
    await sleep(500); // a mirror tick: both nodes know every driver

    // /readyz of A, every 100 ms, for the whole run.
    const ready: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        ready.push((await http('GET', `${A.url}/readyz`).catch(() => ({ status: 0 }))).status);
        await sleep(100);
      }
    })();

    // A stream of jobs, one every 150 ms on alternating nodes; the primary dies a second in.
    const jobs: Array<{ id: string; rt: string; node: Node }> = [];
    let refused = 0;
    const create = async (i: number): Promise<void> => {
      const node = c.nodes[i % 2]!;
      const rt = await c.token('rider', `sf-r${i}`);
      const res = await http('POST', `${node.url}/v1/jobs`, rt, { pickup: { lat: 43.70 + (i % 10) * 0.001, lng: 7.401 } }).catch(() => ({ status: 0, body: {} }));
      if (res.status === 201) jobs.push({ id: res.body.id as string, rt, node });
      else refused++; // refused while Redis had no primary: the rider was told, nothing to track
    };
    const creations: Array<Promise<void>> = [];
    let failover = { ms: 0 };
    for (let i = 0; i < 40; i++) {
      creations.push(create(i));
      if (i === 7) failover = await setup.killPrimaryAndWaitFailover();
      await sleep(150);
    }
    await Promise.all(creations);
    t.comment(`failover seen after ${failover.ms} ms; ${jobs.length} jobs created, ${refused} refused during the gap`);
    t.ok(jobs.length >= 20, 'most creations succeeded');

    const end = Date.now() + 60_000;
    let states: string[] = [];
    while (Date.now() < end) {
      states = await Promise.all(jobs.map(async (j) => String((await http('GET', `${j.node.url}/v1/jobs/${j.id}`, j.rt)).body.state)));
      if (states.every(isFinalState)) break;
      await sleep(500);
    }
    polling = false;
    await poller;
    t.same(violations, [], 'no driver ever held two offers or two active jobs');
    t.ok(states.every(isFinalState), `every created job ended final (none lost): ${JSON.stringify(states)}`);
    t.ok(states.filter((s) => s === 'completed').length >= jobs.length / 3, 'many completed');
    t.ok(ready.includes(503), '/readyz went 503 during the failover');
    t.equal(ready.at(-1), 200, '/readyz is 200 after it');

    // After the failover: a new job made on B for a driver connected to A, watched by a rider on B (pub/sub across nodes).
    for (const d of drivers) d.close();
    const d = await Client.open(`${A.wsUrl}/v1/driver/ws`, await c.token('driver', 'sf-after'));
    await d.waitFor((f) => f.t === 'hello');
    await d.request({ t: 'loc', lat: 43.80, lng: 7.50, ts: Date.now() });
    await d.request({ t: 'status', s: 'available' });
    await sleep(500); // the fleet mirror (pub/sub) carries the driver to B
    const rt = await c.token('rider', 'sf-r-after');
    const created = await http('POST', `${B.url}/v1/jobs`, rt, { pickup: { lat: 43.8001, lng: 7.50 } });
    t.equal(created.status, 201, 'new jobs are accepted');
    const job = created.body.id as string;
    const r = await Client.open(`${B.wsUrl}/v1/rider/ws`, rt);
    t.equal((await r.request({ t: 'sub', job })).t, 'ack');
    await d.waitFor((f) => f.t === 'offer' && f.job === job, 5000);
    t.equal((await d.request({ t: 'accept', job })).t, 'ack');
    const seen = await r.waitFor((f) => f.t === 'job' && f.state === 'accepted', 5000);
    t.ok(seen, 'the rider on B hears the acceptance made on A: pub/sub deliveries resumed');
    t.ok(A.proc?.exitCode === null && B.proc?.exitCode === null, 'no node crashed');
    d.close();
    r.close();
  });
}
