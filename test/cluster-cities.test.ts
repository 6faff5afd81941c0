// Nodes that serve some cities (issue #17), end to end: 3 real node processes on one Redis and on a Redis Cluster, each city on
// its own node(s); trips, 421 and close 4009 with the URL of a node serving the city, the SDK following them,
// a driver crossing a city boundary with its active job, and the death of one of a city's two nodes.
import fs from 'node:fs';
import nodeHttp from 'node:http';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { DriverClient, RiderClient } from '../src/client/index.js';
import { CloseCodes } from '../src/protocol/errors.js';
import { Client, http, sleep } from './helpers/server.js';
import type { Frame } from './helpers/server.js';
import { redisSkip, stopTestRedis, testRedisUrl } from './helpers/redis.js';
import { startCluster } from './helpers/cluster.js';
import { RedisClusterSetup } from './helpers/redis-cluster.js';
import type { Cluster, Node } from './helpers/cluster.js';

const sq = (lng0: number, lat0: number, lng1: number, lat1: number) => ({ type: 'Polygon', coordinates: [[[lng0, lat0], [lng1, lat0], [lng1, lat1], [lng0, lat1], [lng0, lat0]]] });
// Porto and "lisbon" share the edge lat 41.0 (so a driver can drive across it); madrid is far away.
const CITIES = [
  { name: 'porto', timezone: 'Europe/Lisbon', boundary: sq(-8.8, 41.0, -8.4, 41.3) },
  { name: 'lisbon', timezone: 'Europe/Lisbon', boundary: sq(-8.8, 40.7, -8.4, 41.0) },
  { name: 'madrid', timezone: 'Europe/Madrid', boundary: sq(-3.9, 40.3, -3.5, 40.6) },
];
const AT = { porto: { lat: 41.15, lng: -8.6 }, lisbon: { lat: 40.85, lng: -8.6 }, madrid: { lat: 40.42, lng: -3.7 } } as const;
type City = keyof typeof AT;
const HEARTBEAT_MS = 300;
const TTL_MS = 1500;

async function rawDriver(c: Cluster, node: Node, id: string, at: { lat: number; lng: number }): Promise<Client> {
  const d = await Client.open(`${node.wsUrl}/v1/driver/ws`, await c.token('driver', id));
  await d.waitFor((f) => f.t === 'hello');
  await d.request({ t: 'loc', lat: at.lat, lng: at.lng, ts: Date.now() });
  await d.request({ t: 'status', s: 'available' });
  return d;
}

/** A driver SDK client, connected, available at `at`; resolves once its fix and status are acknowledged. `others`: more nodes for its `urls`. */
async function sdkDriver(c: Cluster, node: Node, id: string, at: { lat: number; lng: number }, others: Node[] = []): Promise<DriverClient> {
  const d = new DriverClient({ url: node.wsUrl, urls: others.map((n) => n.wsUrl), token: await c.token('driver', id), backoff: { initialMs: 50, maxMs: 500 } });
  await d.connect();
  d.sendFix({ ...at });
  await d.setStatus('available');
  return d;
}

/** Wait until `node` lists driver `id` near `at` (ops nearby). */
async function seen(c: Cluster, node: Node, id: string, at: { lat: number; lng: number }, timeoutMs = 8000): Promise<void> {
  const ops = await c.token('ops', 'ops-check');
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const r = await http('GET', `${node.url}/v1/drivers/nearby?lat=${at.lat}&lng=${at.lng}&radius_m=20000&limit=100`, ops);
    if (r.status === 200 && (r.body.drivers as Array<{ id: string }>).some((d) => d.id === id)) return;
    await sleep(50);
  }
  throw new Error(`node ${node.name} never saw ${id}`);
}

/** GET with node:http (one request, no automatic retry), the JSON body. */
function rawGet(url: string, token: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    nodeHttp.get(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.on('data', (b: Buffer) => (text += b.toString()));
      res.on('end', () => resolve(JSON.parse(text)));
    }).on('error', reject);
  });
}

function nextEvent<T>(on: (fn: (v: T) => void) => () => void, pred: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = on((v) => {
      if (!pred(v)) return;
      clearTimeout(timer);
      off();
      resolve(v);
    });
  });
}

/** The whole scenario on one Redis (`redisEnv` empty) or on a Redis Cluster (`redisEnv` names its nodes). */
async function scenario(t: Test, url: string, redisEnv: Record<string, string>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-cluster-cities-'));
  const citiesFile = path.join(dir, 'cities.json');
  fs.writeFileSync(citiesFile, JSON.stringify({ cities: CITIES }));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const c = await startCluster(url, 3, {
    TAXIWAY_CITIES: citiesFile, HOST: '127.0.0.1', TAXIWAY_FIX_BUDGET_RATE: '0', TAXIWAY_SEARCH_WINDOW_MS: '60000',
    TAXIWAY_NODE_HEARTBEAT_MS: String(HEARTBEAT_MS), TAXIWAY_NODE_TTL_MS: String(TTL_MS), ...redisEnv,
  }, [{ TAXIWAY_SERVE_CITIES: 'porto' }, { TAXIWAY_SERVE_CITIES: 'lisbon' }, { TAXIWAY_SERVE_CITIES: 'madrid,porto' }]);
  t.teardown(() => c.stop());
  const [P, L, M] = c.nodes as [Node, Node, Node];
  const serving: Record<City, Node[]> = { porto: [P, M], lisbon: [L], madrid: [M] };
  await sleep(2 * HEARTBEAT_MS); // every node has read the others' entries

  t.test('a trip in each city, on a node serving it', async (t) => {
    for (const [city, node] of [['porto', P], ['lisbon', L], ['madrid', M]] as Array<[City, Node]>) {
      const at = AT[city];
      const d = await rawDriver(c, node, `cc-trip-${city}`, at);
      const rt = await c.token('rider', `cc-rider-${city}`);
      const created = await http('POST', `${node.url}/v1/jobs`, rt, { pickup: { lat: at.lat + 0.001, lng: at.lng } });
      t.equal(created.status, 201, `${city}: created`);
      t.equal(created.body.city, city);
      const job = created.body.id as string;
      await d.waitFor((f) => f.t === 'offer' && f.job === job, 8000);
      for (const a of ['accept', 'arrived', 'start', 'complete']) t.equal((await d.request({ t: a, job })).t, 'ack', `${city}: ${a}`);
      t.equal((await http('GET', `${node.url}/v1/jobs/${job}`, rt)).body.state, 'completed', `${city}: completed on ${node.name}`);
      d.close();
    }
  });

  t.test('HTTP for a city a node does not serve: 421 naming a node that serves it; the SDK follows it', async (t) => {
    const rt = await c.token('rider', 'cc-r421');
    const r = await http('POST', `${P.url}/v1/jobs`, rt, { pickup: AT.lisbon });
    t.equal(r.status, 421);
    t.match(r.body.error, { code: 'misdirected', city: 'lisbon', url: L.url });
    const ops = await c.token('ops', 'cc-ops');
    const n = await http('GET', `${L.url}/v1/drivers/nearby?lat=${AT.madrid.lat}&lng=${AT.madrid.lng}`, ops);
    t.equal(n.status, 421);
    t.equal(n.body.error.url, M.url, 'nearby in madrid, asked of the lisbon node');
    const e = await http('GET', `${M.url}/v1/eta?from=${AT.lisbon.lat},${AT.lisbon.lng}&to=${AT.lisbon.lat + 0.01},${AT.lisbon.lng}`, rt);
    t.equal(e.status, 421, 'ETA from lisbon, asked of the madrid node');
    // fetch() sends a request answered 421 once more by itself (the Fetch standard's retry on a new connection):
    // node:http sends each once, so the two porto nodes show in turn.
    const porto: string[] = [];
    for (let i = 0; i < 4; i++) porto.push(((await rawGet(`${L.url}/v1/drivers/nearby?lat=${AT.porto.lat}&lng=${AT.porto.lng}`, ops)) as { error: { url: string } }).error.url);
    t.same(new Set(porto.slice(0, 2)), new Set([P.url, M.url]), "porto's two nodes, in turn");
    t.same(porto.slice(2), porto.slice(0, 2));
    t.equal((await http('GET', `${L.url}/v1/drivers/nearby?lat=${AT.lisbon.lat}&lng=${AT.lisbon.lng}`, ops)).status, 200, 'its own city: served');

    const rider = new RiderClient({ url: P.wsUrl, token: rt });
    const job = await rider.createJob({ pickup: AT.lisbon });
    t.equal(job.city, 'lisbon', 'created through the lisbon node after the redirect');
    t.equal((await rider.cancelJob(job.id)).state, 'cancelled', 'a job is cancelled through any node');
    await rider.close();
  });

  t.test('a driver socket on a node not serving its city is closed with 4009 and the URL; the SDK reconnects there', async (t) => {
    const raw = await Client.open(`${P.wsUrl}/v1/driver/ws`, await c.token('driver', 'cc-wrong-raw'));
    await raw.waitFor((f) => f.t === 'hello');
    raw.send({ t: 'loc', lat: AT.madrid.lat, lng: AT.madrid.lng, ts: Date.now() });
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => raw.ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
    t.same(closed, { code: CloseCodes.servedElsewhere, reason: `madrid ${M.url}` });

    const d = new DriverClient({ url: P.wsUrl, token: await c.token('driver', 'cc-wrong'), backoff: { initialMs: 50, maxMs: 500 } });
    const redirect = nextEvent((fn) => d.on('redirect', fn), () => true, 8000, 'redirect');
    await d.connect();
    d.sendFix({ ...AT.lisbon });
    t.match(await redirect, { city: 'lisbon', url: `${L.wsUrl}/v1/driver/ws`, hops: 1 });
    await nextEvent((fn) => d.on('ready', fn), () => true, 8000, 'ready on the lisbon node');
    t.equal(d.currentUrl, `${L.wsUrl}/v1/driver/ws`);
    d.sendFix({ lat: AT.lisbon.lat, lng: AT.lisbon.lng + 0.0001 });
    await d.setStatus('available');
    await seen(c, L, 'cc-wrong', AT.lisbon);
    await d.close();
  });

  t.test('a driver crossing into a city served elsewhere is handed over with its active job and finishes the trip there', async (t) => {
    const d = await sdkDriver(c, P, 'cc-cross', { lat: 41.01, lng: -8.6 });
    await seen(c, P, 'cc-cross', { lat: 41.01, lng: -8.6 });
    const rt = await c.token('rider', 'cc-cross-r');
    const offer = nextEvent<{ job: string }>((fn) => d.on('offer', fn), () => true, 8000, 'offer');
    const created = await http('POST', `${P.url}/v1/jobs`, rt, { pickup: { lat: 41.011, lng: -8.6 }, dropoff: { lat: 40.9, lng: -8.6 } });
    t.equal(created.status, 201);
    const job = created.body.id as string;
    const rider = await Client.open(`${P.wsUrl}/v1/rider/ws`, rt);
    t.equal((await rider.request({ t: 'sub', job })).t, 'ack');
    t.equal((await offer).job, job);
    await d.accept(job);
    await d.arrived(job);
    await d.start(job);
    const redirect = nextEvent((fn) => d.on('redirect', fn), () => true, 8000, 'redirect');
    const back = nextEvent<{ job: string; state: string }>((fn) => d.on('job', fn), (f) => f.job === job, 15_000, 'the active job frame from the lisbon node');
    // Southwards across lat 41.0, 1.1 km in 60 s: a plausible drive.
    d.sendFix({ lat: 40.9995, lng: -8.6, ts: Date.now() + 60_000 });
    t.match(await redirect, { city: 'lisbon', url: `${L.wsUrl}/v1/driver/ws` });
    t.match(await back, { job, state: 'in_progress' }, 'the job goes on, served by the lisbon node');
    t.equal(d.currentUrl, `${L.wsUrl}/v1/driver/ws`);
    await d.complete(job);
    await rider.waitFor((f: Frame) => f.t === 'job' && f.job === job && f.state === 'completed', 5000);
    t.equal((await http('GET', `${P.url}/v1/jobs/${job}`, rt)).body.state, 'completed');
    await d.close();
    rider.close();
  });

  t.test('the death of one of a city\'s two nodes: the other takes its jobs (timers, search) and drivers; redirects stop naming it', async (t) => {
    const rt = await c.token('rider', 'cc-takeover-r');
    // A job waiting for a driver, searched by P; and a driver on P with an active job, whose SDK knows both
    // porto nodes (no load balancer in front of them).
    const carrying = await sdkDriver(c, P, 'cc-carrier', AT.porto, [M]);
    await seen(c, P, 'cc-carrier', AT.porto);
    const offered = nextEvent<{ job: string }>((fn) => carrying.on('offer', fn), () => true, 8000, 'offer');
    const rt2 = await c.token('rider', 'cc-takeover-r2');
    const trip = await http('POST', `${P.url}/v1/jobs`, rt2, { pickup: { lat: AT.porto.lat + 0.001, lng: AT.porto.lng } });
    t.equal((await offered).job, trip.body.id);
    t.equal((await carrying.accept(trip.body.id)).t, 'ack');
    const waiting = await http('POST', `${P.url}/v1/jobs`, rt, { pickup: { lat: AT.porto.lat - 0.05, lng: AT.porto.lng } });
    t.equal(waiting.status, 201);
    t.equal(waiting.body.state, 'dispatching', 'nobody free: it waits in its search window');
    const back = nextEvent<{ job: string; state: string }>((fn) => carrying.on('job', fn), (f) => f.job === trip.body.id, 15_000, 'the active job frame after the failover');
    await P.stop('SIGKILL');
    const t0 = Date.now();
    // The driver's SDK finds P dead and moves to the next node of its list, M, by itself: its job is there.
    const active = await back;
    t.equal(active.state, 'accepted', 'the active job, from the surviving porto node');
    t.equal(carrying.currentUrl, `${M.wsUrl}/v1/driver/ws`, 'the SDK moved to M by itself');
    t.comment(`SDK on M with its job ${Date.now() - t0} ms after the kill`);
    t.equal((await carrying.arrived(trip.body.id)).t, 'ack', 'arrived');
    t.equal((await carrying.start(trip.body.id)).t, 'ack', 'start');
    t.equal((await carrying.complete(trip.body.id)).t, 'ack', 'complete');
    t.equal((await http('GET', `${M.url}/v1/jobs/${trip.body.id}`, rt2)).body.state, 'completed', 'the trip completed');
    // A free driver near the waiting job, on M: M's timers of porto (the job's watchdog) dispatch it.
    const d = await rawDriver(c, M, 'cc-taker', { lat: AT.porto.lat - 0.05, lng: AT.porto.lng });
    const offer = await d.waitFor((f) => f.t === 'offer' && f.job === waiting.body.id, 20_000);
    t.ok(offer, `offered by the surviving node ${Date.now() - t0} ms after the kill`);
    await sleep(TTL_MS + 2 * HEARTBEAT_MS);
    const r = await http('POST', `${L.url}/v1/jobs`, rt, { pickup: AT.porto });
    t.equal(r.status, 421);
    t.equal(r.body.error.url, M.url, 'only the live porto node is named');
    void serving;
    await carrying.close();
    d.close();
  });
}

const skip = await redisSkip();
if (skip) t.test('nodes serving some cities', { skip }, async () => {});
else {
  t.teardown(() => stopTestRedis());
  const url = (await testRedisUrl())!;
  await t.test('on one Redis', (t) => scenario(t, url, {}));
  const clusterSkip = RedisClusterSetup.skip();
  if (clusterSkip) t.test('on a Redis Cluster', { skip: clusterSkip }, async () => {});
  else {
    await t.test('on a Redis Cluster (3 primaries: the cities on their own slots)', async (t) => {
      const setup = await RedisClusterSetup.start(3);
      t.teardown(() => setup.destroy());
      await scenario(t, '', setup.env);
    });
  }
}
