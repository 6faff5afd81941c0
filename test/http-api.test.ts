// HTTP API over real requests: ETA point sanity (swapped lat/lng), nearby's city, CORS, HEAD, metric names and the latency histogram.
import fs from 'node:fs';
import nodeHttp from 'node:http';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { loadConfig } from '../src/config/load-config.js';
import { CorsPolicy } from '../src/ws/cors.js';
import { removeDir, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';

const APP_ORIGIN = 'https://app.example.com';

/** Monaco, roughly: a bounded city and no catch-all. */
const MONACO = {
  name: 'monaco', timezone: 'Europe/Monaco',
  boundary: { type: 'Polygon', coordinates: [[[7.40, 43.72], [7.44, 43.72], [7.44, 43.76], [7.40, 43.76], [7.40, 43.72]]] },
};

interface Raw { status: number; headers: nodeHttp.IncomingHttpHeaders; body: string }

const agent = new nodeHttp.Agent({ keepAlive: true, maxSockets: 1 });

/** One request with node:http (so `Origin` and HEAD go out as written), on a keep-alive socket. */
function raw(method: string, url: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = nodeHttp.request(url, { method, headers, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const json = (r: Raw): any => JSON.parse(r.body);

let world: TestServer;
let city: TestServer;
let citiesDir: string;
t.before(async () => {
  world = await startServer();
  citiesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-cities-'));
  fs.writeFileSync(path.join(citiesDir, 'cities.json'), JSON.stringify({ cities: [MONACO] }));
  city = await startServer({ TAXIWAY_CITIES: path.join(citiesDir, 'cities.json'), TAXIWAY_CORS_ORIGINS: `${APP_ORIGIN}, http://localhost:3000` });
});
t.teardown(async () => {
  agent.destroy();
  await world.stop();
  await city.stop();
  removeDir(world.dataDir);
  removeDir(city.dataDir);
  removeDir(citiesDir);
});

const auth = async (s: TestServer, role: 'rider' | 'ops' = 'rider'): Promise<Record<string, string>> => ({ authorization: `Bearer ${await s.token(role, `http-${role}`)}` });

t.test('eta: a swapped lat/lng is refused with a message naming the field', async (t) => {
  const h = await auth(world);
  const ok = await raw('GET', `${world.url}/v1/eta?from=43.73,7.42&to=43.74,7.43`, h);
  t.equal(ok.status, 200);
  t.ok(json(ok).distance_m > 0);
  // Monaco to the swapped Monaco: once answered as a 5,000+ km taxi ride.
  const swappedTo = await raw('GET', `${world.url}/v1/eta?from=43.73,7.42&to=7.43,43.74`, h);
  t.equal(swappedTo.status, 400);
  t.equal(json(swappedTo).error.code, 'bad_request');
  t.match(json(swappedTo).error.message, /^from and to are 5,358 km apart \(the limit is 200 km, TAXIWAY_ETA_MAX_DISTANCE_M\); did you swap lat and lng in one of them\?/);
  const swappedFrom = await raw('GET', `${world.url}/v1/eta?from=7.42,43.73&to=43.74,7.43`, h);
  t.equal(swappedFrom.status, 400);
  // A long but plausible trip (Monaco to Nice airport, ~20 km) passes.
  t.equal((await raw('GET', `${world.url}/v1/eta?from=43.73,7.42&to=43.66,7.21`, h)).status, 200);
});

t.test('eta: points must lie in, or near, a served city', async (t) => {
  const h = await auth(city);
  t.equal((await raw('GET', `${city.url}/v1/eta?from=43.73,7.42&to=43.74,7.43`, h)).status, 200, 'inside');
  t.equal((await raw('GET', `${city.url}/v1/eta?from=43.73,7.42&to=43.66,7.21`, h)).status, 200, 'to Nice airport, outside the boundary but near');
  const both = await raw('GET', `${city.url}/v1/eta?from=7.42,43.73&to=7.43,43.74`, h);
  t.equal(both.status, 400, 'both swapped: a short trip, but on another continent');
  t.match(json(both).error.message, /^from is outside every served city \([\d,]+ km away; the limit is 200 km, TAXIWAY_ETA_MAX_DISTANCE_M\); did you swap lat and lng\?/);
  const to = await raw('GET', `${city.url}/v1/eta?from=43.73,7.42&to=7.43,43.74`, h);
  t.match(json(to).error.message, /^to is outside every served city/);
});

t.test('nearby: a point outside every city answers 200, no drivers, city null', async (t) => {
  const h = await auth(city);
  const out = await raw('GET', `${city.url}/v1/drivers/nearby?lat=7.42&lng=43.73`, h);
  t.equal(out.status, 200);
  t.same(json(out), { drivers: [], city: null });
  const inside = await raw('GET', `${city.url}/v1/drivers/nearby?lat=43.73&lng=7.42`, h);
  t.same(json(inside), { drivers: [], city: 'monaco' });
});

t.test('CORS: preflight for an allowed origin, refusal by omission for others', async (t) => {
  const pre = await raw('OPTIONS', `${city.url}/v1/jobs`, { origin: APP_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' });
  t.equal(pre.status, 204);
  t.equal(pre.body, '');
  t.equal(pre.headers['access-control-allow-origin'], APP_ORIGIN);
  t.match(pre.headers['access-control-allow-methods'], /POST/);
  t.match(pre.headers['access-control-allow-methods'], /GET/);
  t.match(pre.headers['access-control-allow-headers'], /authorization/);
  t.match(pre.headers['access-control-allow-headers'], /content-type/);
  t.equal(pre.headers['access-control-max-age'], '3600');
  t.equal(pre.headers.vary, 'Origin');
  const other = await raw('OPTIONS', `${city.url}/v1/jobs`, { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' });
  t.equal(other.status, 204);
  t.notOk(other.headers['access-control-allow-origin']);
  t.notOk(other.headers['access-control-allow-methods']);
  // Origins match exactly: another port or scheme is another origin.
  const port = await raw('OPTIONS', `${city.url}/v1/jobs`, { origin: 'http://localhost:3001', 'access-control-request-method': 'GET' });
  t.notOk(port.headers['access-control-allow-origin']);
  const second = await raw('OPTIONS', `${city.url}/v1/eta`, { origin: 'http://localhost:3000', 'access-control-request-method': 'GET' });
  t.equal(second.headers['access-control-allow-origin'], 'http://localhost:3000');
});

t.test('CORS: actual replies carry Allow-Origin and Vary for allowed origins, errors too', async (t) => {
  const h = await auth(city);
  const ok = await raw('GET', `${city.url}/v1/eta?from=43.73,7.42&to=43.74,7.43`, { ...h, origin: APP_ORIGIN });
  t.equal(ok.status, 200);
  t.equal(ok.headers['access-control-allow-origin'], APP_ORIGIN);
  t.equal(ok.headers.vary, 'Origin');
  const unauth = await raw('GET', `${city.url}/v1/eta?from=43.73,7.42&to=43.74,7.43`, { origin: APP_ORIGIN });
  t.equal(unauth.status, 401);
  t.equal(unauth.headers['access-control-allow-origin'], APP_ORIGIN, 'a browser app can read the 401');
  const other = await raw('GET', `${city.url}/healthz`, { origin: 'https://evil.example.com' });
  t.equal(other.status, 200);
  t.notOk(other.headers['access-control-allow-origin']);
  t.equal(other.headers.vary, 'Origin', 'Vary on every reply, so caches keep origins apart');
});

t.test('CORS: none by default', async (t) => {
  const pre = await raw('OPTIONS', `${world.url}/v1/jobs`, { origin: APP_ORIGIN, 'access-control-request-method': 'POST' });
  t.equal(pre.status, 204);
  t.notOk(pre.headers['access-control-allow-origin']);
  const get = await raw('GET', `${world.url}/healthz`, { origin: APP_ORIGIN });
  t.notOk(get.headers['access-control-allow-origin']);
  t.notOk(get.headers.vary);
});

t.test('CORS: configuration', async (t) => {
  const any = new CorsPolicy(['*']);
  t.equal(any.allowed('https://x.example'), '*');
  t.equal(any.allowed(''), null, 'no Origin: not a CORS request');
  t.same(loadConfig({ TAXIWAY_CORS_ORIGINS: '' }).corsOrigins, []);
  t.same(loadConfig({ TAXIWAY_CORS_ORIGINS: 'https://a.example, http://localhost:8080' }).corsOrigins, ['https://a.example', 'http://localhost:8080']);
  t.same(loadConfig({ TAXIWAY_CORS_ORIGINS: '*' }).corsOrigins, ['*']);
  for (const bad of ['https://a.example/', 'https://a.example/app', 'a.example', '*,https://a.example', 'HTTPS://A.example']) {
    t.throws(() => loadConfig({ TAXIWAY_CORS_ORIGINS: bad }), /^TAXIWAY_CORS_ORIGINS/, bad);
  }
  t.throws(() => loadConfig({ TAXIWAY_ETA_MAX_DISTANCE_M: '-1' }), /^TAXIWAY_ETA_MAX_DISTANCE_M/);
});

t.test('HEAD /metrics, /healthz, /readyz: headers and no body', async (t) => {
  for (const p of ['/metrics', '/healthz', '/readyz']) {
    const get = await raw('GET', `${world.url}${p}`);
    const head = await raw('HEAD', `${world.url}${p}`);
    t.equal(head.status, 200, p);
    t.equal(head.body, '', p);
    t.equal(head.headers['content-type'], get.headers['content-type'], p);
    t.ok(Number(head.headers['content-length']) > 0, `${p} reports its length`);
  }
  // The keep-alive socket is still in step after HEAD replies.
  t.same(json(await raw('GET', `${world.url}/healthz`)), { ok: true });
  const unknown = await raw('HEAD', `${world.url}/nope`);
  t.equal(unknown.status, 404);
  t.equal(unknown.body, '');
  t.same(json(await raw('GET', `${world.url}/healthz`)), { ok: true });
});

t.test('metric names: one process_ prefix, and the HTTP latency histogram', async (t) => {
  await raw('GET', `${world.url}/v1/eta?from=43.73,7.42&to=7.43,43.74`, await auth(world));
  await raw('HEAD', `${world.url}/healthz`);
  const m = (await raw('GET', `${world.url}/metrics`)).body;
  t.match(m, /\ntaxiway_process_cpu_seconds_total \d/);
  t.match(m, /\ntaxiway_process_resident_memory_bytes \d/);
  t.match(m, /\ntaxiway_nodejs_eventloop_lag_seconds \d/);
  if (process.platform === 'linux') t.match(m, /\ntaxiway_process_open_fds \d+/);
  t.notMatch(m, /process_process/);
  t.match(m, /# TYPE taxiway_http_request_duration_seconds histogram/);
  // Counts add up over the file's earlier requests to the same node: check presence, not values.
  t.match(m, /\ntaxiway_http_request_duration_seconds_bucket\{le="0\.0001",route="\/v1\/eta",method="GET",status="4xx"\} \d+\n/);
  t.match(m, /\ntaxiway_http_request_duration_seconds_bucket\{le="\+Inf",route="\/v1\/eta",method="GET",status="4xx"\} [1-9]\d*\n/);
  t.match(m, /\ntaxiway_http_request_duration_seconds_count\{route="\/healthz",method="HEAD",status="2xx"\} [1-9]\d*\n/);
  t.match(m, /\ntaxiway_http_request_duration_seconds_count\{route="unmatched",method="HEAD",status="4xx"\} [1-9]/);
  t.notMatch(m, /route="\/nope"/, 'an unmatched path is no label of its own');
  t.match(m, /\ntaxiway_http_requests_total\{route="GET \/v1\/eta",status="400"\} [1-9]\d*\n/, 'the request counter keeps its labels');
});
