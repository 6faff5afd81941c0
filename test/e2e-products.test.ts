// End to end over real sockets: products from driver tokens and the cities file; jobs offered only to drivers serving their product; nearby filtered by product.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { signToken } from '../src/auth/tokens.js';
import { Client, SECRET, http, onlineDriver, rebuild, removeDir, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';

const MC = { lat: 43.7384, lng: 7.4246 }; // Monaco
const square = { type: 'Polygon', coordinates: [[[7.40, 43.72], [7.44, 43.72], [7.44, 43.76], [7.40, 43.76], [7.40, 43.72]]] };

let s: TestServer;
let dir: string;
t.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-products-'));
  const cities = path.join(dir, 'cities.json');
  fs.writeFileSync(cities, JSON.stringify({ cities: [
    { name: 'monaco', timezone: 'Europe/Monaco', boundary: square, products: ['taxi', 'xl', 'tow'] },
    { name: 'rest', timezone: 'UTC', boundary: null },
  ] }));
  s = await startServer({ TAXIWAY_CITIES: cities, TAXIWAY_OFFER_TIMEOUT_MS: '2000' });
});
t.teardown(async () => {
  await s.stop();
  removeDir(s.dataDir);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A connected, available driver at (lat, lng) whose token lists `products`. */
async function productDriver(id: string, products: string[], lat: number, lng: number): Promise<Client> {
  const c = await Client.open(`${s.wsUrl}/v1/driver/ws`, await signToken(SECRET, id, 'driver', 600, { products }));
  await c.waitFor((f) => f.t === 'hello');
  if ((await c.request({ t: 'loc', lat, lng, ts: Date.now() })).t !== 'ack') throw new Error('loc refused');
  if ((await c.request({ t: 'status', s: 'available' })).t !== 'ack') throw new Error('status refused');
  return c;
}

t.test('an xl job goes to the xl driver even when a taxi-only driver is nearer; never to the taxi driver', async (t) => {
  const taxi = await onlineDriver(s, 'p-taxi', MC.lat + 0.0005, MC.lng); // no claim: monaco's default, taxi
  const xl = await productDriver('p-xl', ['xl'], MC.lat + 0.005, MC.lng);
  rebuild(s);
  const rt = await s.token('rider', 'p-r1');
  const job = await http('POST', `${s.url}/v1/jobs`, rt, { pickup: MC, product: 'xl' });
  t.equal(job.status, 201);
  t.equal(job.body.product, 'xl');
  const offer = await xl.waitFor((f) => f.t === 'offer' && f.job === job.body.id);
  t.equal(offer.product, 'xl');
  t.equal((await xl.request({ t: 'decline', job: job.body.id })).t, 'ack');
  // Declined by the only xl driver: the job ends unfulfilled, and the taxi driver never saw it.
  const r = await Client.open(`${s.wsUrl}/v1/rider/ws`, rt, true);
  await r.request({ t: 'sub', job: job.body.id });
  await r.waitFor((f) => f.t === 'job' && f.job === job.body.id && f.state === 'unfulfilled');
  t.notOk(taxi.frames.some((f) => f.t === 'offer'), 'no offer reached the taxi-only driver');

  // A job naming no product is the city's default (taxi): the nearest taxi driver gets it, not the xl one.
  const plain = await http('POST', `${s.url}/v1/jobs`, rt, { pickup: MC });
  t.equal(plain.status, 201);
  t.equal(plain.body.product, 'taxi', 'old clients: no product means the default');
  await taxi.waitFor((f) => f.t === 'offer' && f.job === plain.body.id);
  t.equal((await taxi.request({ t: 'decline', job: plain.body.id })).t, 'ack');
  await r.request({ t: 'sub', job: plain.body.id });
  await r.waitFor((f) => f.t === 'job' && f.job === plain.body.id && f.state === 'unfulfilled');
  t.notOk(xl.frames.some((f) => f.t === 'offer' && f.job === plain.body.id), 'the xl-only driver does not serve taxi');
  for (const c of [taxi, xl, r]) c.close();
});

t.test('an xl job with no xl driver around ends unfulfilled; the taxi driver is not offered it', async (t) => {
  const taxi = await onlineDriver(s, 'p-taxi2', MC.lat + 0.0005, MC.lng + 0.001);
  rebuild(s);
  const job = await http('POST', `${s.url}/v1/jobs`, await s.token('rider', 'p-r2'), { pickup: MC, product: 'xl' });
  t.equal(job.status, 201);
  t.equal(job.body.state, 'unfulfilled');
  t.notOk(taxi.frames.some((f) => f.t === 'offer'));
  taxi.close();
});

t.test('a product the city does not offer, or a malformed one, is a 400 naming product', async (t) => {
  const rt = await s.token('rider', 'p-r3');
  const limo = await http('POST', `${s.url}/v1/jobs`, rt, { pickup: MC, product: 'limo' });
  t.equal(limo.status, 400);
  t.equal(limo.body.error.code, 'bad_request');
  t.match(limo.body.error.message, /product limo is not offered in monaco \(taxi, xl, tow\)/);
  const bad = await http('POST', `${s.url}/v1/jobs`, rt, { pickup: MC, product: 'XL' });
  t.equal(bad.status, 400);
  t.match(bad.body.error.message, /^product must be/);
  // The catch-all city lists no products: it offers its default (taxi) only.
  const elsewhere = await http('POST', `${s.url}/v1/jobs`, rt, { pickup: { lat: 10, lng: 10 }, product: 'xl' });
  t.equal(elsewhere.status, 400);
  t.match(elsewhere.body.error.message, /product xl is not offered in rest \(taxi\)/);
});

t.test('GET /v1/drivers/nearby?product= filters by product; ops see each driver\'s products', async (t) => {
  const a = await onlineDriver(s, 'n-taxi', MC.lat + 0.001, MC.lng);
  const b = await productDriver('n-both', ['taxi', 'tow', 'elsewhere-only'], MC.lat + 0.002, MC.lng);
  const c = await productDriver('n-xl', ['xl'], MC.lat + 0.003, MC.lng);
  rebuild(s);
  const ops = await s.token('ops', 'p-ops');
  const ids = async (q: string): Promise<string[]> => {
    const r = await http('GET', `${s.url}/v1/drivers/nearby?lat=${MC.lat}&lng=${MC.lng}&radius_m=1000${q}`, ops);
    t.equal(r.status, 200, q);
    return (r.body.drivers as Array<{ id: string }>).map((d) => d.id).filter((id) => id.startsWith('n-'));
  };
  t.same(await ids(''), ['n-taxi', 'n-both', 'n-xl'], 'no product: every driver');
  t.same(await ids('&product=taxi'), ['n-taxi', 'n-both']);
  t.same(await ids('&product=tow'), ['n-both']);
  t.same(await ids('&product=xl'), ['n-xl']);
  const all = await http('GET', `${s.url}/v1/drivers/nearby?lat=${MC.lat}&lng=${MC.lng}&radius_m=1000`, ops);
  const both = (all.body.drivers as Array<{ id: string; products: string[] }>).find((d) => d.id === 'n-both');
  t.same(both?.products, ['taxi', 'tow'], 'products the city does not offer are not listed');
  const limo = await http('GET', `${s.url}/v1/drivers/nearby?lat=${MC.lat}&lng=${MC.lng}&product=limo`, ops);
  t.equal(limo.status, 400);
  t.match(limo.body.error.message, /^product limo is not offered in monaco/);
  const bad = await http('GET', `${s.url}/v1/drivers/nearby?lat=${MC.lat}&lng=${MC.lng}&product=X%20L`, ops);
  t.equal(bad.status, 400);
  t.match(bad.body.error.message, /^product must be/);
  for (const x of [a, b, c]) x.close();
});

t.test('a driver token whose products claim is not an array is refused at the upgrade, naming the claim', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const tok = await new SignJWT({ role: 'driver', products: 'xl' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject('p-bad').setIssuedAt(now).setExpirationTime(now + 600)
    .sign(new TextEncoder().encode(SECRET));
  const refused = await Client.open(`${s.wsUrl}/v1/driver/ws`, tok).then(() => null, (e: { status?: number }) => e);
  t.equal(refused?.status, 401);
  // The refusal's JSON body, read from the raw upgrade response.
  const text = await new Promise<string>((resolve, reject) => {
    const ws = new WebSocket(`${s.wsUrl}/v1/driver/ws`, { headers: { authorization: `Bearer ${tok}` } });
    ws.once('unexpected-response', (_req, res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve(b));
    });
    ws.once('open', () => reject(new Error('upgraded')));
    ws.once('error', () => undefined);
  });
  const body = JSON.parse(text) as { error: { code: string; message: string } };
  t.equal(body.error.code, 'unauthorized');
  t.match(body.error.message, /token products claim must be an array/);
});
