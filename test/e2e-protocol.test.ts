// End to end over real sockets: auth, bad frames, frame limits, fix rules, HTTP errors, ownership.
import t from 'tap';
import { encodeFrame } from '../src/protocol/codec.js';
import { Client, http, onlineDriver, removeDir, sleep, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { signToken } from '../src/auth/tokens.js';

let s: TestServer;
t.before(async () => {
  s = await startServer();
});
t.teardown(async () => {
  await s.stop();
  removeDir(s.dataDir);
});

t.test('bad tokens are refused: HTTP 401/403 and no socket', async (t) => {
  const rt = await s.token('rider', 'auth-r');
  t.equal((await http('GET', `${s.url}/v1/drivers/nearby?lat=1&lng=1`)).status, 401);
  const bad = await http('GET', `${s.url}/v1/drivers/nearby?lat=1&lng=1`, 'not-a-jwt');
  t.equal(bad.status, 401);
  t.equal(bad.body.error.code, 'unauthorized');
  const wrongKey = await signToken('another-secret-0123456789', 'x', 'rider');
  t.equal((await http('GET', `${s.url}/v1/drivers/nearby?lat=1&lng=1`, wrongKey)).status, 401);
  const expired = await signToken('test-secret-0123456789abcdef', 'x', 'rider', -10);
  t.equal((await http('GET', `${s.url}/v1/drivers/nearby?lat=1&lng=1`, expired)).status, 401);
  const dt = await s.token('driver', 'auth-d');
  const forb = await http('POST', `${s.url}/v1/jobs`, dt, { pickup: { lat: 1, lng: 1 } });
  t.equal(forb.status, 403);
  t.equal(forb.body.error.code, 'forbidden');
  t.equal(await refused(Client.open(`${s.wsUrl}/v1/driver/ws`)), 401);
  t.equal(await refused(Client.open(`${s.wsUrl}/v1/driver/ws`, 'garbage')), 401);
  t.equal(await refused(Client.open(`${s.wsUrl}/v1/driver/ws`, rt)), 403);
  t.equal(await refused(Client.open(`${s.wsUrl}/v1/ops/ws`, rt, true)), 403);
  const ok = await Client.open(`${s.wsUrl}/v1/driver/ws`, dt, true);
  const hello = await ok.waitFor((f) => f.t === 'hello');
  t.equal(hello.driver, 'auth-d');
  t.type(hello.interval_ms, 'number');
  t.type(hello.server_ts, 'number');
  ok.close();
});

t.test('text and garbage frames get err; the socket keeps working; 100 in a row closes 1008', async (t) => {
  const c = (await Client.open(`${s.wsUrl}/v1/driver/ws`, await s.token('driver', 'garbage-d'))).allowInvalidSends(); // unknown t on purpose
  await c.waitFor((f) => f.t === 'hello');
  c.sendRaw('hello there', false);
  const e1 = await c.waitFor((f) => f.t === 'err');
  t.equal(e1.code, 'bad_frame');
  c.sendRaw(Buffer.from([0xc1, 0xff, 0x00]));
  c.sendRaw(encodeFrame([1, 2, 3]));
  c.sendRaw(Buffer.concat([encodeFrame({ t: 'loc' }), Buffer.from([1])]));
  c.send({ t: 'fly', id: 7 });
  const e2 = await c.waitFor((f) => f.t === 'err' && f.id === 7);
  t.equal(e2.code, 'bad_request');
  t.match(e2.msg, /unknown message type/);
  const e3 = await c.request({ t: 'loc', lat: 91, lng: 0, ts: Date.now() });
  t.equal(e3.code, 'bad_request');
  t.match(e3.msg, /lat/);
  const e4 = await c.request({ t: 'loc', lat: 1, lng: 2, ts: Date.now(), hdg: 360 });
  t.match(e4.msg, /hdg/);
  const ok = await c.request({ t: 'loc', lat: 43.7, lng: 7.4, ts: Date.now() });
  t.equal(ok.t, 'ack', 'still works after bad frames');
  t.equal(c.frames.filter((f) => f.t === 'err').length, 7);
  for (let i = 0; i < 100; i++) c.sendRaw('x', false);
  t.equal(await c.waitClose(), 1008);
  // Other connections are unharmed.
  const other = await onlineDriver(s, 'garbage-other', 43.7, 7.41);
  t.ok(other);
  other.close();
});

t.test('a frame over 64 KiB closes with 1009', async (t) => {
  for (const kib of [65, 300, 1000]) {
    const c = (await Client.open(`${s.wsUrl}/v1/rider/ws`, await s.token('rider', 'big-r'))).allowInvalidSends();
    c.send({ t: 'sub', job: 'x', pad: 'a'.repeat(kib * 1024) });
    t.equal(await c.waitClose(), 1009, `${kib} KiB`);
  }
});

t.test('a malformed path never takes the node down', async (t) => {
  const rt = await s.token('rider', 'pct-r');
  const r = await http('GET', `${s.url}/v1/jobs/%E0%A4%A`, rt);
  t.equal(r.status, 400);
  t.equal(r.body.error.code, 'bad_request');
  t.equal((await http('GET', `${s.url}/healthz`)).status, 200);
});

t.test('fix rules: uint64/float ts, future, jump, duplicates, out of order, locs', async (t) => {
  const c = (await onlineDriver(s, 'rules-d', 43.7000, 7.4000)).allowInvalidSends(); // out-of-range points on purpose
  const t0 = Date.now();
  // uint64 and float64 encodings of ts are accepted.
  const u64 = Buffer.from([0x85, 0xa1, 0x74, 0xa3, 0x6c, 0x6f, 0x63, 0xa3, 0x6c, 0x61, 0x74, 0xcb, ...f64(43.7001), 0xa3, 0x6c, 0x6e, 0x67, 0xcb, ...f64(7.4), 0xa2, 0x74, 0x73, 0xcf, ...u64be(t0 + 1000), 0xa2, 0x69, 0x64, 0x05]);
  c.sendRaw(u64);
  t.equal((await c.waitFor((f) => f.id === 5)).t, 'ack', 'uint64 ts');
  t.equal((await c.request({ t: 'loc', lat: 43.7002, lng: 7.4, ts: t0 + 2000.0 })).t, 'ack', 'float64 ts');
  const fut = await c.request({ t: 'loc', lat: 43.7002, lng: 7.4, ts: Date.now() + 120_000 });
  t.equal(fut.code, 'bad_location');
  const dup = await c.request({ t: 'loc', lat: 43.7002, lng: 7.4, ts: t0 + 2000 });
  t.equal(dup.t, 'ack', 'exact duplicate is dropped silently');
  // A jump of 10 km in 1 s is rejected; three agreeing fixes there win.
  const j1 = await c.request({ t: 'loc', lat: 43.79, lng: 7.4, ts: t0 + 3000 });
  t.equal(j1.code, 'bad_location');
  t.match(j1.msg, /250 km\/h/);
  t.equal((await c.request({ t: 'loc', lat: 43.7901, lng: 7.4, ts: t0 + 4000 })).code, 'bad_location');
  t.equal((await c.request({ t: 'loc', lat: 43.7902, lng: 7.4, ts: t0 + 5000 })).t, 'ack', 'third agreeing fix wins');
  const p = s.app.fleet.position('rules-d')!;
  t.equal(p.lat, 43.7902);
  // Out of order: kept in history, live position unchanged.
  t.equal((await c.request({ t: 'loc', lat: 43.7903, lng: 7.4, ts: t0 + 4500 })).t, 'ack');
  t.equal(s.app.fleet.position('rules-d')!.lat, 43.7902);
  const batch = await c.request({ t: 'locs', pts: [[t0 + 6000, 43.7904, 7.4], [t0 + 7000, 999, 7.4], [t0 + 8000, 43.7905, 7.4, 90, 5.5, 3], [t0 + 8000, 43.7905, 7.4], [t0 + 9000, 10, 10]] });
  t.same({ accepted: batch.accepted, rejected: batch.rejected, duplicates: batch.duplicates }, { accepted: 2, rejected: 2, duplicates: 1 });
  t.same(await c.request({ t: 'locs', pts: [] }), { t: 'ack', id: (c.frames.at(-1) as { id: number }).id, accepted: 0, rejected: 0, duplicates: 0, limited: 0 });
  s.app.ingest.flush();
  await s.app.storage.flush();
  const tr = await http('GET', `${s.url}/v1/drivers/rules-d/track?from=${t0 + 1}&to=${t0 + 10_000}`, await s.token('ops', 'ops1'));
  t.equal(tr.status, 200);
  t.same(tr.body.points.map((p: number[]) => p[0] - t0), [1000, 2000, 4500, 5000, 6000, 8000], 'history holds accepted fixes, oldest first');
  t.same(tr.body.points.at(-1), [t0 + 8000, 43.7905, 7.4, 90, 5.5, 3]);
  const page = await http('GET', `${s.url}/v1/drivers/rules-d/track?from=${t0 + 1}&to=${t0 + 10_000}&limit=4`, await s.token('driver', 'rules-d'));
  t.equal(page.body.points.length, 4);
  t.equal(page.body.next, t0 + 6000);
  t.equal((await http('GET', `${s.url}/v1/drivers/rules-d/track`, await s.token('driver', 'someone-else'))).status, 403);
  c.close();
});

t.test('HTTP validation and ownership', async (t) => {
  const r1 = await s.token('rider', 'own-r1');
  const r2 = await s.token('rider', 'own-r2');
  const b1 = await http('POST', `${s.url}/v1/jobs`, r1, { pickup: { lat: 95, lng: 0 } });
  t.equal(b1.status, 400);
  t.match(b1.body.error.message, /pickup\.lat/);
  t.equal((await http('POST', `${s.url}/v1/jobs`, r1, '{nope')).status, 400);
  t.equal((await http('POST', `${s.url}/v1/jobs`, r1, { pickup: { lat: 1, lng: 1 }, pad: 'x'.repeat(70_000) })).status, 413);
  const job = (await http('POST', `${s.url}/v1/jobs`, r1, { pickup: { lat: 43.6, lng: 7.2 } })).body.id;
  t.equal((await http('GET', `${s.url}/v1/jobs/${job}`, r2)).status, 404, 'another rider cannot see it');
  t.equal((await http('POST', `${s.url}/v1/jobs/${job}/cancel`, r2)).status, 404);
  const ws = await Client.open(`${s.wsUrl}/v1/rider/ws`, r2);
  const e = await ws.request({ t: 'sub', job });
  t.equal(e.t, 'err');
  t.equal(e.code, 'not_found');
  ws.close();
  t.equal((await http('GET', `${s.url}/v1/jobs/${job}`, await s.token('ops', 'o'))).status, 200, 'ops may read');
  t.equal((await http('GET', `${s.url}/v1/drivers/nearby?lat=abc&lng=1`, r1)).status, 400);
  t.equal((await http('GET', `${s.url}/v1/eta?from=43.7,7.4&to=43.75,7.45`, r1)).status, 200);
  t.equal((await http('GET', `${s.url}/v1/eta?from=43.7&to=43.75,7.45`, r1)).status, 400);
  t.equal((await http('GET', `${s.url}/v1/nope`, r1)).status, 404);
  t.same((await http('GET', `${s.url}/healthz`)).body, { ok: true });
  t.equal((await http('GET', `${s.url}/readyz`)).status, 200);
  const m = await http('GET', `${s.url}/metrics`);
  for (const name of ['taxiway_fixes_accepted_total', 'taxiway_fixes_rejected_total', 'taxiway_jobs_total', 'taxiway_dispatch_offer_latency_seconds', 'taxiway_ws_connections']) {
    t.match(m.body, name);
  }
  // Kept, but read from a background cache (the default collector listed /proc/self/fd on the event loop).
  if (process.platform === 'linux') t.match(m.body, /\ntaxiway_process_open_fds \d+/);
});

t.test('nearby: nearest first, ids for ops only', async (t) => {
  const a = await onlineDriver(s, 'nb-a', 43.6000, 7.5000);
  const b = await onlineDriver(s, 'nb-b', 43.6010, 7.5000);
  await sleep(250); // let the snapshot timer run: nearby must work without a manual rebuild
  const r = await http('GET', `${s.url}/v1/drivers/nearby?lat=43.6001&lng=7.5&radius_m=2000&limit=5`, await s.token('rider', 'nb-r'));
  t.equal(r.status, 200);
  t.equal(r.body.drivers.length, 2);
  t.ok(r.body.drivers[0].distance_m <= r.body.drivers[1].distance_m);
  t.notOk('id' in r.body.drivers[0]);
  const o = await http('GET', `${s.url}/v1/drivers/nearby?lat=43.6001&lng=7.5&radius_m=2000`, await s.token('ops', 'nb-o'));
  t.same(o.body.drivers.map((d: { id: string }) => d.id), ['nb-a', 'nb-b']);
  a.close();
  b.close();
});

t.test('ops socket streams fleet snapshots and job changes', async (t) => {
  const o = await Client.open(`${s.wsUrl}/v1/ops/ws`, await s.token('ops', 'ops-1'));
  t.equal((await o.request({ t: 'sub' })).t, 'ack');
  const d = await onlineDriver(s, 'ops-d', 43.5, 7.3);
  const fleet = await o.waitFor((f) => f.t === 'fleet' && (f.drivers as unknown[][]).some((x) => x[0] === 'ops-d'), 3000);
  t.type(fleet.ts, 'number');
  const rt = await s.token('rider', 'ops-r');
  const job = (await http('POST', `${s.url}/v1/jobs`, rt, { pickup: { lat: 10, lng: 10 } })).body.id;
  await o.waitFor((f) => f.t === 'job' && f.job === job && f.state === 'unfulfilled');
  t.equal((await o.request({ t: 'sub', city: 'atlantis' })).code, 'not_found');
  d.close();
  o.close();
});

function f64(v: number): number[] {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(v);
  return [...b];
}
function u64be(v: number): number[] {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(v));
  return [...b];
}

/** The HTTP status an upgrade was refused with (or 0 if it opened). */
async function refused(p: Promise<Client>): Promise<number> {
  try {
    (await p).close();
    return 0;
  } catch (e) {
    return (e as { status?: number }).status ?? -1;
  }
}
