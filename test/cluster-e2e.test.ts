// Cluster mode end to end: real node processes sharing a real Redis; cross-node trips, no double dispatch,
// node death, fleet rebuild on restart, Redis restart.
import t from 'tap';
import { isFinalState } from '../src/protocol/job-record.js';
import { Client, http, sleep } from './helpers/server.js';
import type { Frame } from './helpers/server.js';
import { RedisServer, REQUIRE_SERVICES, redisSkip, stopTestRedis, testRedisUrl } from './helpers/redis.js';
import { newNode, startCluster } from './helpers/cluster.js';
import type { Cluster, Node } from './helpers/cluster.js';

const skip = await redisSkip();

async function driverOn(c: Cluster, node: Node, id: string, lat: number, lng: number): Promise<Client> {
  const d = await Client.open(`${node.wsUrl}/v1/driver/ws`, await c.token('driver', id));
  await d.waitFor((f) => f.t === 'hello');
  await d.request({ t: 'loc', lat, lng, ts: Date.now() });
  await d.request({ t: 'status', s: 'available' });
  return d;
}

/** Wait until `node` sees driver `id` as available (its mirror caught up). */
async function seen(c: Cluster, node: Node, ids: string[], lat: number, lng: number, timeoutMs = 5000): Promise<void> {
  const ops = await c.token('ops', 'ops-check');
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const r = await http('GET', `${node.url}/v1/drivers/nearby?lat=${lat}&lng=${lng}&radius_m=20000&limit=100`, ops);
    const have = new Set((r.body.drivers ?? []).map((d: { id: string }) => d.id));
    if (ids.every((id) => have.has(id))) return;
    await sleep(50);
  }
  throw new Error(`node ${node.name} never saw ${ids.join(',')}`);
}

if (skip) t.test('cluster mode end to end', { skip }, async () => {});
else {
  const url = (await testRedisUrl())!;
  t.teardown(() => stopTestRedis());

  t.test('cross-node trip: driver on A, rider on B, job created through C; ops on any node see the fleet', async (t) => {
    const c = await startCluster(url, 3);
    t.teardown(() => c.stop());
    const [A, B, C] = c.nodes as [Node, Node, Node];
    const d = await driverOn(c, A, 'x-d1', 43.7300, 7.4200);
    await seen(c, C, ['x-d1'], 43.73, 7.42);
    const ops = await Client.open(`${B.wsUrl}/v1/ops/ws`, await c.token('ops', 'x-ops'));
    await ops.request({ t: 'sub' });
    await ops.waitFor((f) => f.t === 'fleet' && (f.drivers as unknown[][]).some((x) => x[0] === 'x-d1'), 3000);
    const rt = await c.token('rider', 'x-r1');
    const created = await http('POST', `${C.url}/v1/jobs`, rt, { pickup: { lat: 43.7301, lng: 7.4200 }, dropoff: { lat: 43.74, lng: 7.43 } });
    t.equal(created.status, 201);
    const job = created.body.id as string;
    const r = await Client.open(`${B.wsUrl}/v1/rider/ws`, rt);
    t.equal((await r.request({ t: 'sub', job })).t, 'ack');
    await d.waitFor((f) => f.t === 'offer' && f.job === job, 5000);
    // Order of replies (docs/protocol.md): the job frame a driver's action caused arrives once, before its ack,
    // in a cluster too (the frame also travels the bus; that copy must not reach the driver a second time).
    const step = async (action: string, state: string): Promise<void> => {
      const mark = d.frames.length;
      const reply = await d.request({ t: action, job });
      t.equal(reply.t, 'ack', action);
      await r.waitFor((f) => f.t === 'job' && f.state === state, 3000);
      await sleep(150);
      const seen = d.frames.slice(mark);
      const jobAt = seen.findIndex((f) => f.t === 'job' && f.job === job && f.state === state);
      t.ok(jobAt >= 0 && jobAt < seen.indexOf(reply), `${action}: job frame before the ack`);
      t.equal(seen.filter((f) => f.t === 'job' && f.job === job && f.state === state).length, 1, `${action}: one job frame`);
    };
    await step('accept', 'accepted');
    d.send({ t: 'loc', lat: 43.7302, lng: 7.42, ts: Date.now() + 2000 });
    const pos = await r.waitFor((f) => f.t === 'pos' && f.job === job, 3000);
    t.equal(pos.lat, 43.7302);
    await step('arrived', 'arrived');
    await step('start', 'in_progress');
    await step('complete', 'completed');
    await ops.waitFor((f) => f.t === 'job' && f.job === job && f.state === 'completed', 3000);
    const got = await http('GET', `${A.url}/v1/jobs/${job}`, rt);
    t.equal(got.body.state, 'completed');
    t.same(Object.keys(got.body.times).sort(), ['accepted', 'arrived', 'completed', 'dispatching', 'in_progress']);
    d.close();
    r.close();
    ops.close();
  });

  t.test('40 concurrent jobs over 15 drivers on 3 nodes: never two offers or two active jobs per driver', async (t) => {
    const c = await startCluster(url, 3, { TAXIWAY_OFFER_TIMEOUT_MS: '1500', TAXIWAY_MAX_ATTEMPTS: '30' });
    t.teardown(() => c.stop());
    const drivers: Client[] = [];
    const violations: string[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 15; i++) {
      const id = `cc-d${i}`;
      ids.push(id);
      const d = await driverOn(c, c.nodes[i % 3]!, id, 43.70 + i * 0.001, 7.40);
      drivers.push(d);
      let holding: string | null = null;
      let active: string | null = null;
      // Driver state follows frame order exactly: the `complete` ack ends the active job in the handler of
      // that very frame (an await continuation would run only after later frames of the same read).
      let completeId = -1;
      d.ws.on('message', () => {
        const f = d.frames.at(-1) as Frame;
        if (f.t === 'ack' && f.id === completeId) active = null;
        if (f.t === 'offer') {
          if (holding) violations.push(`${id} offered ${f.job} while holding ${holding}`);
          if (active) violations.push(`${id} offered ${f.job} while active on ${active}`);
          holding = f.job as string;
          const job = holding;
          // Accept two out of three offers, after a short think; decline the rest.
          setTimeout(async () => {
            if (holding !== job) return;
            const accept = Math.random() < 0.67;
            holding = null; // answered: from here on the driver holds no offer
            const res = await d.request({ t: accept ? 'accept' : 'decline', job });
            if (accept && res.t === 'ack') {
              if (active) violations.push(`${id} accepted ${job} while active on ${active}`);
              active = job;
              for (const step of ['arrived', 'start']) await d.request({ t: step, job });
              completeId = 1_000_000_000 + Math.floor(Math.random() * 1e9);
              const mark = d.frames.length;
              d.send({ t: 'complete', job, id: completeId });
              await d.waitFor((x) => (x.t === 'ack' || x.t === 'err') && x.id === completeId, 5000, mark);
              active = null;
            }
          }, 20 + Math.random() * 80);
        } else if (f.t === 'offer_revoked' && f.job === holding) holding = null;
      });
    }
    await Promise.all(c.nodes.map((n) => seen(c, n, ids, 43.705, 7.40)));
    const jobs = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const node = c.nodes[i % 3]!;
        const rt = await c.token('rider', `cc-r${i}`);
        const res = await http('POST', `${node.url}/v1/jobs`, rt, { pickup: { lat: 43.70 + (i % 15) * 0.001, lng: 7.401 } });
        return { id: res.body.id as string, rt, node };
      }),
    );
    const end = Date.now() + 60_000;
    let states: string[] = [];
    while (Date.now() < end) {
      states = await Promise.all(jobs.map(async (j) => (await http('GET', `${j.node.url}/v1/jobs/${j.id}`, j.rt)).body.state as string));
      if (states.every(isFinalState)) break;
      await sleep(250);
    }
    t.same(violations, [], 'no driver ever held two offers or two active jobs');
    t.ok(states.every(isFinalState), `every job final: ${JSON.stringify(states)}`);
    t.ok(states.filter((s) => s === 'completed').length >= 10, 'most jobs completed');
    for (const d of drivers) d.close();
  });

  t.test('SIGKILL of the node that made an offer: the offer still expires and dispatch moves on', async (t) => {
    const c = await startCluster(url, 2, { TAXIWAY_OFFER_TIMEOUT_MS: '1000' });
    t.teardown(() => c.stop());
    const [A, B] = c.nodes as [Node, Node];
    const d1 = await driverOn(c, A, 'k-d1', 43.7200, 7.4100);
    const d2 = await driverOn(c, B, 'k-d2', 43.7200, 7.4120);
    await Promise.all([seen(c, A, ['k-d1', 'k-d2'], 43.72, 7.41), seen(c, B, ['k-d1', 'k-d2'], 43.72, 7.41)]);
    const rt = await c.token('rider', 'k-r');
    const job = (await http('POST', `${A.url}/v1/jobs`, rt, { pickup: { lat: 43.7200, lng: 7.4099 } })).body.id as string;
    await d1.waitFor((f) => f.t === 'offer' && f.job === job, 3000);
    await A.stop('SIGKILL');
    await d1.waitClose(3000);
    const offer = await d2.waitFor((f) => f.t === 'offer' && f.job === job, 8000);
    t.ok(offer, 'the surviving node moved the job on to the next driver');
    t.equal((await d2.request({ t: 'accept', job })).t, 'ack');
    // The driver of the dead node reconnects to B; an active job would be sent back (it has none).
    const d1b = await Client.open(`${B.wsUrl}/v1/driver/ws`, await c.token('driver', 'k-d1'));
    await d1b.waitFor((f) => f.t === 'hello');
    d2.close();
    const d2b = await Client.open(`${B.wsUrl}/v1/driver/ws`, await c.token('driver', 'k-d2'));
    const back = await d2b.waitFor((f) => f.t === 'job' && f.job === job, 3000);
    t.equal(back.state, 'accepted', 'a reconnecting driver gets its active job back');
    for (const step of ['arrived', 'start', 'complete']) t.equal((await d2b.request({ t: step, job })).t, 'ack');
    t.equal((await http('GET', `${B.url}/v1/jobs/${job}`, rt)).body.state, 'completed');
    d1b.close();
    d2b.close();
  });

  t.test('one connection per driver across nodes: connecting to B closes the socket on A with 4001, and B gets the offers', async (t) => {
    const c = await startCluster(url, 2);
    t.teardown(() => c.stop());
    const [A, B] = c.nodes as [Node, Node];
    const onA = await driverOn(c, A, 'h-d1', 43.7300, 7.4200);
    const onB = await driverOn(c, B, 'h-d1', 43.7300, 7.4201);
    t.equal(await onA.waitClose(3000), 4001, 'the older socket, on the other node, is replaced');
    await sleep(200);
    t.equal(onB.closeCode, null, 'the newer one stays open');
    await seen(c, B, ['h-d1'], 43.73, 7.42);
    const rt = await c.token('rider', 'h-r');
    const job = (await http('POST', `${B.url}/v1/jobs`, rt, { pickup: { lat: 43.7301, lng: 7.4200 } })).body.id as string;
    const offer = await onB.waitFor((f) => f.t === 'offer' && f.job === job, 5000);
    t.ok(offer, 'the driver was not marked offline by the old socket closing: it gets the offer on B');
    t.equal((await onB.request({ t: 'accept', job })).t, 'ack');
    onB.close();
  });

  t.test('a node that starts later loads the whole fleet from Redis before serving', async (t) => {
    const c = await startCluster(url, 1);
    t.teardown(() => c.stop());
    const ds = [];
    for (let i = 0; i < 5; i++) ds.push(await driverOn(c, c.nodes[0]!, `late-d${i}`, 43.75 + i * 0.001, 7.43));
    await sleep(300); // a mirror tick
    const late = await newNode(url, c.prefix, 'late');
    c.nodes.push(late);
    await late.start();
    const ops = await c.token('ops', 'late-ops');
    const r = await http('GET', `${late.url}/v1/drivers/nearby?lat=43.752&lng=7.43&radius_m=5000&limit=20`, ops);
    t.same(r.body.drivers.map((d: { id: string }) => d.id).sort(), ['late-d0', 'late-d1', 'late-d2', 'late-d3', 'late-d4']);
    for (const d of ds) d.close();
  });

  t.test('Redis restart during a run: nodes reconnect and recover without a crash', async (t) => {
    if (!RedisServer.available()) {
      t.comment('redis-server is not installed: cannot restart a private Redis');
      if (REQUIRE_SERVICES) t.fail('redis-server required');
      return;
    }
    const redis = await RedisServer.start();
    t.teardown(() => redis.destroy());
    const c = await startCluster(redis.url, 2);
    t.teardown(() => c.stop());
    const [A, B] = c.nodes as [Node, Node];
    const d = await driverOn(c, A, 'rr-d', 43.7100, 7.4000);
    await redis.stop();
    await sleep(1500);
    t.equal((await http('GET', `${A.url}/readyz`)).status, 503, 'not ready while Redis is down');
    t.equal((await http('GET', `${A.url}/healthz`)).status, 200, 'but alive');
    await redis.restart();
    const end = Date.now() + 15_000;
    while (Date.now() < end && (await http('GET', `${B.url}/readyz`)).status !== 200) await sleep(200);
    t.equal((await http('GET', `${B.url}/readyz`)).status, 200, 'ready again');
    // Redis lost everything: the driver's next fixes repopulate the mirror; a new trip works.
    d.send({ t: 'loc', lat: 43.7101, lng: 7.4, ts: Date.now() });
    await d.request({ t: 'status', s: 'available' });
    await seen(c, B, ['rr-d'], 43.71, 7.40, 8000);
    const rt = await c.token('rider', 'rr-r');
    const job = (await http('POST', `${B.url}/v1/jobs`, rt, { pickup: { lat: 43.7101, lng: 7.4001 } })).body.id;
    await d.waitFor((f) => f.t === 'offer' && f.job === job, 5000);
    t.equal((await d.request({ t: 'accept', job })).t, 'ack');
    t.ok(A.proc && A.proc.exitCode === null && B.proc && B.proc.exitCode === null, 'no node crashed');
    d.close();
  });
}
