// Cluster on real Redis: an airport queue spans two nodes, survives SIGKILL of the node holding the first driver's socket (it reconnects to the other, keeps position 1, gets the offer) and a node restart.
import t from 'tap';
import { Client, http, sleep } from './helpers/server.js';
import type { Frame } from './helpers/server.js';
import { redisSkip, stopTestRedis, testRedisUrl } from './helpers/redis.js';
import { newNode, startCluster } from './helpers/cluster.js';
import type { Cluster, Node } from './helpers/cluster.js';

const sq = (a: number, b: number, c: number, d: number) => ({ type: 'Polygon', coordinates: [[[a, b], [c, b], [c, d], [a, d], [a, b]]] });
const nice = { timezone: 'Europe/Paris', boundary: sq(7.20, 43.66, 7.30, 43.74), products: ['taxi'] };
const RANK = sq(7.21, 43.665, 7.22, 43.672);
const WAIT = { lat: 43.6715, lng: 7.2195 };
const PICKUP = { lat: 43.6652, lng: 7.2102 };

async function until(what: string, ok: () => Promise<boolean>, limitMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs) {
    if (await ok()) return;
    await sleep(20);
  }
  throw new Error(`${what}: not within ${limitMs} ms`);
}

/** A driver on `node`, available, with a fresh fix at the rank. */
async function queued(c: Cluster, node: Node, id: string): Promise<Client> {
  const d = await Client.open(`${node.wsUrl}/v1/driver/ws`, await c.token('driver', id));
  await d.waitFor((f) => f.t === 'hello');
  t.equal((await d.request({ t: 'status', s: 'available' })).t, 'ack');
  t.equal((await d.request({ t: 'loc', ...WAIT, ts: Date.now() })).t, 'ack');
  return d;
}
const place = (d: Client, position: number, mark = 0): Promise<Frame> => d.waitFor((f) => f.t === 'queue' && f.position === position, 8000, mark);

const skip = await redisSkip();
if (skip) t.test('cluster airport queue', { skip }, async () => {});
else {
  const url = (await testRedisUrl())!;
  t.teardown(() => stopTestRedis());

  t.test('the queue lives in Redis: SIGKILL of the first driver\'s node, it reconnects to the other, keeps position 1 and gets the offer', async (t) => {
    const c = await startCluster(url, 2, { TAXIWAY_FIX_BUDGET_RATE: '0' });
    const extra: Node[] = [];
    t.teardown(async () => {
      await Promise.all(extra.map((n) => n.stop('SIGKILL')));
      await c.stop();
    });
    const [A, B] = c.nodes as [Node, Node];
    const ops = await c.token('ops', 'ops1');
    t.equal((await http('PUT', `${A.url}/v1/admin/cities/nice`, ops, nice)).status, 201);
    t.equal((await http('PUT', `${A.url}/v1/admin/zones/nce-t1`, ops, { city: 'nice', kind: 'airport_queue', polygon: RANK })).status, 201);
    await until('zone on B', async () => (await http('GET', `${B.url}/v1/admin/zones/nce-t1`, ops)).status === 200);

    const d1 = await queued(c, A, 'cq-d1');
    t.match(await place(d1, 1), { zone: 'nce-t1', city: 'nice', position: 1, length: 1 });
    const d2 = await queued(c, B, 'cq-d2');
    t.match(await place(d2, 2), { position: 2, length: 2 }, 'a driver on the other node queues behind');
    const d3 = await queued(c, B, 'cq-d3');
    t.match(await place(d3, 3), { position: 3, length: 3 });
    const onB = (await http('GET', `${B.url}/v1/admin/zones/nce-t1/queue`, ops)).body;
    t.same(onB.drivers.map((x: { driver: string }) => x.driver), ['cq-d1', 'cq-d2', 'cq-d3'], 'both nodes read one queue');

    await A.stop('SIGKILL');
    await d1.waitClose();
    // The app reconnects to the surviving node: hello, status, its next fix at the rank.
    const back = await queued(c, B, 'cq-d1');
    t.match(await place(back, 1), { position: 1, length: 3 }, 'its place survived the death of its node');
    const rider = await c.token('rider', 'cq-r1');
    const created = await http('POST', `${B.url}/v1/jobs`, rider, { pickup: PICKUP });
    t.equal(created.status, 201);
    const job = created.body.id as string;
    const offer = await back.waitFor((f) => f.t === 'offer' && f.job === job, 8000);
    t.ok(offer, 'the first in the queue gets the offer');
    t.notOk(d2.frames.some((f) => f.t === 'offer') || d3.frames.some((f) => f.t === 'offer'), 'nobody behind it');
    const m3 = d3.frames.length;
    t.equal((await back.request({ t: 'accept', job })).t, 'ack');
    t.match(await back.waitFor((f) => f.t === 'queue' && f.left === true, 8000), { position: 0 }, 'taking the job: out of the queue');
    t.match(await place(d3, 2, m3), { position: 2, length: 2 });

    // A node started afterwards (a restart) reads the same queue: nothing was wiped.
    const C = await newNode(url, c.prefix, 'n2', { TAXIWAY_FIX_BUDGET_RATE: '0' });
    extra.push(C);
    await C.start();
    const onC = (await http('GET', `${C.url}/v1/admin/zones/nce-t1/queue`, ops)).body;
    t.same(onC.drivers.map((x: { driver: string; position: number }) => [x.driver, x.position]), [['cq-d2', 1], ['cq-d3', 2]]);
    for (const d of [back, d2, d3]) d.close();
  });
}
