// End to end over real sockets: an airport_queue zone made through the admin API queues available drivers in order, offers its jobs first in first out (greedy and batched), and tells each driver its place.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { Client, NO_JOB_LIMITS, http, removeDir, sleep, startServer } from './helpers/server.js';
import type { Frame, TestServer } from './helpers/server.js';

const sq = (a: number, b: number, c: number, d: number) => ({ type: 'Polygon', coordinates: [[[a, b], [c, b], [c, d], [a, d], [a, b]]] });
const nice = { timezone: 'Europe/Paris', boundary: sq(7.20, 43.66, 7.30, 43.74), products: ['taxi'] };
/** The rank: 7.21..7.22 E, 43.665..43.672 N. Queued drivers wait at its far (north-east) end. */
const RANK = sq(7.21, 43.665, 7.22, 43.672);
const WAIT = { lat: 43.6715, lng: 7.2195 };
/** The pickup: just inside the rank's south-west corner; a free driver just outside it is far nearer than the queue. */
const PICKUP = { lat: 43.6652, lng: 7.2102 };
const NEARBY = { lat: 43.6648, lng: 7.2098 };

const dirs: string[] = [];
t.teardown(() => dirs.forEach(removeDir));

/** A node with the city and its rank made through the admin API. */
async function node(env: Record<string, string> = {}): Promise<{ s: TestServer; ops: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-queue-'));
  dirs.push(dir);
  // Fixes carry made-up times up to 5 min old (so moves stay plausible for the jump filter): a long stale time.
  const s = await startServer({ ...NO_JOB_LIMITS, TAXIWAY_FIX_BUDGET_RATE: '0', TAXIWAY_STALE_MS: '600000', ...env }, dir);
  const ops = await s.token('ops', 'ops1');
  t.equal((await http('PUT', `${s.url}/v1/admin/cities/nice`, ops, nice)).status, 201);
  t.equal((await http('PUT', `${s.url}/v1/admin/zones/nce-t1`, ops, { city: 'nice', kind: 'airport_queue', name: 'T1 rank', polygon: RANK })).status, 201);
  return { s, ops };
}

/** A connected driver whose fixes carry increasing made-up times (30 s apart, ending about now). */
class Driver {
  ts = Date.now() - 300_000;
  constructor(readonly id: string, readonly c: Client) {}
  static async open(s: TestServer, id: string): Promise<Driver> {
    const c = await Client.open(`${s.wsUrl}/v1/driver/ws`, await s.token('driver', id));
    await c.waitFor((f) => f.t === 'hello');
    return new Driver(id, c);
  }
  async fix(p: { lat: number; lng: number }): Promise<void> {
    const a = await this.c.request({ t: 'loc', lat: p.lat, lng: p.lng, ts: (this.ts += 30_000) });
    if (a.t !== 'ack') throw new Error(`${this.id}: fix refused ${JSON.stringify(a)}`);
  }
  async status(st: string): Promise<void> {
    const a = await this.c.request({ t: 'status', s: st });
    if (a.t !== 'ack') throw new Error(`${this.id}: status refused ${JSON.stringify(a)}`);
  }
  /** The next `queue` frame from `mark` on matching `want`. */
  queue(want: Partial<Frame>, mark = 0, ms = 5000): Promise<Frame> {
    return this.c.waitFor((f) => f.t === 'queue' && Object.entries(want).every(([k, v]) => f[k] === v), ms, mark);
  }
  offer(job: string, mark = 0): Promise<Frame> {
    return this.c.waitFor((f) => f.t === 'offer' && f.job === job, 8000, mark);
  }
  get mark(): number {
    return this.c.frames.length;
  }
}

/** Three drivers queue in order (by both join paths: enter while available, and available while inside), a free one waits nearer. */
async function queueThree(s: TestServer, tag: string): Promise<{ d1: Driver; d2: Driver; d3: Driver; d0: Driver }> {
  const d0 = await Driver.open(s, `${tag}-d0`);
  await d0.fix(NEARBY);
  await d0.status('available');
  const d1 = await Driver.open(s, `${tag}-d1`);
  await d1.status('available');
  await d1.fix(WAIT); // enters the rank while available
  t.match(await d1.queue({ position: 1 }), { t: 'queue', zone: 'nce-t1', city: 'nice', position: 1, length: 1 });
  const d2 = await Driver.open(s, `${tag}-d2`);
  await d2.fix(WAIT);
  await d2.status('available'); // inside the rank, becomes available
  t.match(await d2.queue({ position: 2 }), { position: 2, length: 2 });
  const d3 = await Driver.open(s, `${tag}-d3`);
  await d3.status('available');
  await d3.fix(WAIT);
  t.match(await d3.queue({ position: 3 }), { position: 3, length: 3 });
  t.notOk(d0.c.frames.some((f) => f.t === 'queue'), 'a driver outside the zone is in no queue');
  s.app.fleet.rebuildDirty();
  return { d0, d1, d2, d3 };
}

t.test('greedy: FIFO offers, decline keeps the place, accept and exit leave, positions follow, empty queue falls back', async (t) => {
  const { s, ops } = await node({ TAXIWAY_QUEUE_OFFLINE_GRACE_MS: '0' }); // offline leaves at once (the default grace is the next test's)
  t.teardown(() => s.stop());
  const { d0, d1, d2, d3 } = await queueThree(s, 'g');
  const q = await http('GET', `${s.url}/v1/admin/zones/nce-t1/queue`, ops);
  t.equal(q.status, 200);
  t.same(q.body.drivers.map((x: { driver: string; position: number }) => [x.driver, x.position]), [['g-d1', 1], ['g-d2', 2], ['g-d3', 3]]);
  t.equal(q.body.length, 3);

  const rider = await s.token('rider', 'g-r1');
  const job = (await http('POST', `${s.url}/v1/jobs`, rider, { pickup: PICKUP })).body.id as string;
  await d1.offer(job);
  t.notOk(d0.c.frames.some((f) => f.t === 'offer'), 'not offered to the nearer free driver outside the queue');
  t.equal((await d1.c.request({ t: 'decline', job })).t, 'ack');
  await d2.offer(job);
  const m1 = d1.mark, m3 = d3.mark;
  t.equal((await d2.c.request({ t: 'accept', job })).t, 'ack');
  t.match(await d2.queue({ left: true }), { position: 0, zone: 'nce-t1' }, 'taking the job: out of the queue');
  t.match(await d3.queue({ position: 2 }, m3), { position: 2, length: 2 }, 'the one behind moves up');
  await sleep(700);
  t.notOk(d1.c.frames.slice(m1).some((f) => f.t === 'queue'), 'first, and still first after declining: no frame for a length change alone');
  t.same((await http('GET', `${s.url}/v1/admin/zones/nce-t1/queue`, ops)).body.drivers.map((x: { driver: string }) => x.driver), ['g-d1', 'g-d3']);

  // The next job goes to the head again (the decline was about the other job); declined by both, it falls back to the nearest.
  const job2 = (await http('POST', `${s.url}/v1/jobs`, rider, { pickup: PICKUP })).body.id as string;
  await d1.offer(job2);
  t.equal((await d1.c.request({ t: 'decline', job: job2 })).t, 'ack');
  await d3.offer(job2);
  t.equal((await d3.c.request({ t: 'decline', job: job2 })).t, 'ack');
  await d0.offer(job2);
  t.equal((await d0.c.request({ t: 'decline', job: job2 })).t, 'ack');

  // d1 drives out of the rank: out of the queue after the exit hysteresis (3 fixes); d3 becomes first.
  const m3b = d3.mark;
  for (const lng of [7.2205, 7.2210, 7.2215]) await d1.fix({ lat: 43.6715, lng });
  t.match(await d1.queue({ left: true }), { position: 0, length: 1 });
  t.match(await d3.queue({ position: 1 }, m3b), { position: 1, length: 1 });
  // Going offline leaves too.
  await d3.status('offline');
  t.match(await d3.queue({ left: true }), { position: 0, length: 0 });
  t.same((await http('GET', `${s.url}/v1/admin/zones/nce-t1/queue`, ops)).body, { zone: 'nce-t1', city: 'nice', length: 0, drivers: [] });

  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  t.match(metrics, /taxiway_zone_queue_length\{zone="nce-t1"\} 0/);
  t.match(metrics, /taxiway_zone_queue_joins_total\{result="joined"\} 3/);
  t.match(metrics, /taxiway_zone_queue_leaves_total\{reason="busy"\} 1/);
  t.match(metrics, /taxiway_zone_queue_leaves_total\{reason="exit"\} 1/);
  t.match(metrics, /taxiway_zone_queue_leaves_total\{reason="offline"\} 1/);
  t.match(metrics, /taxiway_zone_queue_offers_total\{source="queue"\} [1-9]/);
  t.match(metrics, /taxiway_zone_queue_offers_total\{source="fallback"\} [1-9]/);
  for (const d of [d0, d1, d2, d3]) d.c.close();
});

t.test('batched: jobs picked up in the rank are pinned to the queue head, oldest job first', async (t) => {
  const { s } = await node({ TAXIWAY_DISPATCH_POLICY: 'batched', TAXIWAY_BATCH_WINDOW_MS: '200' });
  t.teardown(() => s.stop());
  const { d0, d1, d2, d3 } = await queueThree(s, 'b');
  const rider = await s.token('rider', 'b-r1');
  const a = (await http('POST', `${s.url}/v1/jobs`, rider, { pickup: PICKUP })).body.id as string;
  const b = (await http('POST', `${s.url}/v1/jobs`, rider, { pickup: PICKUP })).body.id as string;
  await d1.offer(a);
  await d2.offer(b);
  t.notOk(d0.c.frames.some((f) => f.t === 'offer'), 'the solver would have chosen the nearest: not for rank jobs');
  t.equal((await d1.c.request({ t: 'decline', job: a })).t, 'ack');
  await d3.offer(a);
  for (const d of [d0, d1, d2, d3]) d.c.close();
});

t.test('queue GET: ops only, unknown zone 404, other kinds 404, bad limit 400; a deleted zone drops its queue', async (t) => {
  const { s, ops } = await node();
  t.teardown(() => s.stop());
  const d = await Driver.open(s, 'x-d1');
  await d.status('available');
  await d.fix(WAIT);
  await d.queue({ position: 1 });
  for (const role of ['driver', 'rider'] as const) {
    const r = await http('GET', `${s.url}/v1/admin/zones/nce-t1/queue`, await s.token(role, 'x'));
    t.equal(r.status, 403, `${role}: 403`);
    t.equal(r.body.error.code, 'forbidden');
  }
  t.equal((await http('GET', `${s.url}/v1/admin/zones/nce-t1/queue`)).status, 401, 'no token: 401');
  const unknown = await http('GET', `${s.url}/v1/admin/zones/atlantis/queue`, ops);
  t.equal(unknown.status, 404);
  t.match(unknown.body.error.message, /no zone atlantis/);
  t.equal((await http('PUT', `${s.url}/v1/admin/zones/old-town`, ops, { city: 'nice', kind: 'info', polygon: sq(7.25, 43.69, 7.26, 43.70) })).status, 201);
  const info = await http('GET', `${s.url}/v1/admin/zones/old-town/queue`, ops);
  t.equal(info.status, 404);
  t.match(info.body.error.message, /only airport_queue zones have a queue/);
  for (const qs of ['limit=0', 'limit=1001', 'limit=x', 'offset=-1']) {
    const r = await http('GET', `${s.url}/v1/admin/zones/nce-t1/queue?${qs}`, ops);
    t.equal(r.status, 400, qs);
    t.equal(r.body.error.code, 'bad_request');
  }
  t.equal((await http('GET', `${s.url}/v1/admin/zones/bad%20id/queue`, ops)).status, 400, 'a malformed id');
  // Turning the rank into an info zone drops its queue; its driver is told.
  const mark = d.mark;
  t.equal((await http('PUT', `${s.url}/v1/admin/zones/nce-t1`, ops, { city: 'nice', kind: 'info', polygon: RANK })).status, 200);
  t.match(await d.queue({ left: true }, mark), { position: 0, length: 0 });
  d.c.close();
});

t.test('offline grace: a dropped socket that reconnects within TAXIWAY_QUEUE_OFFLINE_GRACE_MS keeps its place; one that does not leaves after it', async (t) => {
  const { s, ops } = await node({ TAXIWAY_QUEUE_OFFLINE_GRACE_MS: '1500' });
  t.teardown(() => s.stop());
  const ids = ['o-d1', 'o-d2', 'o-d3'];
  const ds: Driver[] = [];
  for (const [i, id] of ids.entries()) {
    const d = await Driver.open(s, id);
    await d.status('available');
    await d.fix(WAIT);
    await d.queue({ position: i + 1 });
    ds.push(d);
  }
  const order = async (): Promise<string[]> => (await http('GET', `${s.url}/v1/admin/zones/nce-t1/queue`, ops)).body.drivers.map((x: { driver: string }) => x.driver);
  ds[0]!.c.close();
  await ds[0]!.c.waitClose();
  ds[1]!.c.close(); // never comes back
  await sleep(300);
  t.same(await order(), ids, 'both still queued during the grace time');
  const back = await Driver.open(s, 'o-d1');
  back.ts = ds[0]!.ts;
  await back.status('available');
  await back.fix(WAIT);
  t.match(await back.queue({ position: 1 }), { position: 1, length: 3 }, 'reconnected within the grace: still first');
  await sleep(2000);
  t.same(await order(), ['o-d1', 'o-d3'], 'the one that stayed away left after the grace');
  t.match(await ds[2]!.queue({ position: 2 }), { position: 2, length: 2 });
  back.c.close();
  ds[2]!.c.close();
});
