// The client SDK (taxiway/client) against a real node: offers, restarts, token refresh, replaced sockets, int64 times.
import t from 'tap';
import { DriverClient, OpsClient, RiderClient } from '../src/client/index.js';
import type { ClientError, FlushResult, JobFrame, OfferFrame, TokenReason } from '../src/client/index.js';
import { CloseCodes } from '../src/protocol/errors.js';
import { freePort } from './helpers/redis.js';
import { NO_JOB_LIMITS, rebuild, removeDir, sleep, startServer } from './helpers/server.js';

/** Fast reconnects: a test waits for the node, not for production backoff. */
const FAST = { backoff: { initialMs: 50, maxMs: 300 }, requestTimeoutMs: 5000 };
const MONACO = { lat: 43.7384, lng: 7.4246 };

/** Resolves with the first payload for which `pred` holds, or rejects after `ms`. */
function next<T>(on: (fn: (p: T) => void) => () => void, pred: (p: T) => boolean = () => true, ms = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error('timed out waiting for an event')); }, ms);
    const off = on((p) => {
      if (!pred(p)) return;
      clearTimeout(timer);
      off();
      resolve(p);
    });
  });
}

t.test('offer/accept round trip; every time field arrives as a number', async (t) => {
  const s = await startServer(NO_JOB_LIMITS);
  t.teardown(async () => { await s.stop(); removeDir(s.dataDir); });
  const driver = new DriverClient({ url: s.wsUrl, token: await s.token('driver', 'sdk-d1'), ...FAST });
  const rider = new RiderClient({ url: s.wsUrl, token: await s.token('rider', 'sdk-r1'), ...FAST });
  t.teardown(() => Promise.all([driver.close(), rider.close()]));
  const hello = next<{ server_ts: number }>((fn) => driver.on('hello', fn));
  await driver.connect();
  t.equal(typeof (await hello).server_ts, 'number', 'hello.server_ts is a number, not a BigInt');
  driver.sendFix({ ...MONACO, hdg: 90, spd: 5, acc: 4 });
  await driver.setStatus('available');
  t.equal(driver.fixes.accepted, 1, 'the live fix was acked');
  rebuild(s);
  await rider.connect();
  const offered = next<OfferFrame>((fn) => driver.on('offer', fn));
  const job = await rider.createJob({ pickup: MONACO, dropoff: { lat: 43.745, lng: 7.43 } });
  t.equal(typeof job.created_ts, 'number');
  const snapshot = next<JobFrame>((fn) => rider.on('job', fn), (j) => j.job === job.id);
  await rider.follow(job.id);
  t.equal((await snapshot).state, 'dispatching', 'follow gives a snapshot');
  const offer = await offered;
  t.equal(offer.job, job.id);
  t.ok(Number.isInteger(offer.expires_ts) && typeof offer.expires_ts === 'number', 'offer.expires_ts is an integer number');
  const riderSaw = next<JobFrame>((fn) => rider.on('job', fn), (j) => j.state === 'accepted');
  const driverSaw = next<JobFrame>((fn) => driver.on('job', fn), (j) => j.state === 'accepted');
  await driver.accept(job.id);
  const [rj, dj] = await Promise.all([riderSaw, driverSaw]);
  t.equal(rj.driver?.id, 'sdk-d1');
  for (const [name, v] of [['job.ts', rj.ts], ['job.created_ts', rj.created_ts], ['driver job.ts', dj.ts]] as const) {
    t.ok(typeof v === 'number' && Number.isInteger(v) && v > 1.7e12, `${name} is an integer number of ms (${String(v)})`);
  }
  t.equal((await driver.accept(job.id)).t, 'ack', 'an accept again by the driver it is assigned to is acknowledged (a retry)');
  const err = await driver.decline(job.id).catch((e: ClientError) => e);
  t.equal((err as ClientError).code, 'conflict', 'an err reply rejects with its code');
  await driver.arrived(job.id);
  await driver.start(job.id);
  const done = next<JobFrame>((fn) => rider.on('job', fn), (j) => j.state === 'completed');
  await driver.complete(job.id);
  await done;
  t.notOk(rider.following.has(job.id), 'a final job is no longer followed');

  const ops = new OpsClient({ url: s.wsUrl, token: await s.token('ops', 'sdk-ops'), ...FAST });
  t.teardown(() => ops.close());
  const fleet = next<{ ts: number; drivers: unknown[] }>((fn) => ops.on('fleet', fn));
  const snapshot2 = next<{ ts: number; more: boolean }>((fn) => ops.on('jobs', fn));
  await ops.subscribe();
  const snap = await snapshot2;
  t.ok(typeof snap.ts === 'number' && snap.more === false, 'ops gets the live-job snapshot, ts a number');
  const f = await fleet;
  t.equal(typeof f.ts, 'number', 'fleet.ts is a number');
  t.ok(f.drivers.some((d) => (d as unknown[])[0] === 'sdk-d1'), 'the driver is in the fleet frame');
});

t.test('a node restart: fixes buffered meanwhile are flushed and acked, the rider and ops re-subscribe, an expired token is renewed', async (t) => {
  const port = await freePort();
  const env = { ...NO_JOB_LIMITS, PORT: String(port) };
  let s = await startServer(env);
  t.teardown(async () => { await s.stop(); removeDir(s.dataDir); });
  const reasons: TokenReason[] = [];
  // Tokens that live 2 s: by the time the node is back, the first one has expired.
  const driver = new DriverClient({ url: s.wsUrl, ...FAST, expirySkewMs: 0, token: async (why) => { reasons.push(why); return s.token('driver', 'sdk-d2', 2); } });
  const rider = new RiderClient({ url: s.wsUrl, token: await s.token('rider', 'sdk-r2'), ...FAST });
  const ops = new OpsClient({ url: s.wsUrl, token: await s.token('ops', 'sdk-ops2'), ...FAST });
  t.teardown(() => Promise.all([driver.close(), rider.close(), ops.close()]));
  await Promise.all([driver.connect(), rider.connect(), ops.connect()]);
  await ops.subscribe();
  const t0 = Date.now();
  driver.sendFix({ ...MONACO, ts: t0 });
  await driver.setStatus('available');
  rebuild(s);
  const offered = next<OfferFrame>((fn) => driver.on('offer', fn));
  const job = await rider.createJob({ pickup: MONACO });
  await rider.follow(job.id);
  await driver.accept((await offered).job); // a live job across the restart
  const closes: number[] = [];
  driver.on('close', (c) => closes.push(c.code));
  await sleep(300);

  const wasDown = next((fn) => driver.on('close', fn));
  await s.stop();
  await wasDown;
  t.equal(closes[0], CloseCodes.goingAway, 'a stopping node closes with 1001');
  t.notOk(driver.connected, 'offline');
  // Ten fixes while the node is down: buffered, not lost.
  for (let i = 1; i <= 10; i++) driver.sendFix({ lat: MONACO.lat + i * 1e-5, lng: MONACO.lng, ts: t0 + i * 1000 });
  t.equal(driver.fixStats.buffered, 10, 'ten fixes wait in the buffer');
  await sleep(2200); // the driver's token expires meanwhile

  const flushed = next<FlushResult>((fn) => driver.on('flushed', fn), () => true, 20_000);
  const riderBack = next<JobFrame>((fn) => rider.on('job', fn), (j) => j.job === job.id, 20_000);
  const opsBack = next<{ ts: number }>((fn) => ops.on('fleet', fn), (f) => f.ts > Date.now() - 1000, 20_000);
  const opsSnapshot = next<{ jobs: Array<{ job: string }> }>((fn) => ops.on('jobs', fn), () => true, 20_000);
  s = await startServer(env, s.dataDir);
  const r = await flushed;
  t.same(r, { points: 10, accepted: 10, rejected: 0, duplicates: 0, limited: 0 }, 'the buffered fixes arrive, counted in the locs acks');
  t.equal(driver.fixStats.buffered, 0);
  t.same(reasons.slice(0, 2), ['initial', 'expired'], 'the provider was asked again for the expired token');
  t.equal((await riderBack).state, 'accepted', 'the rider got a fresh snapshot of its job after the reconnect');
  await opsBack;
  t.pass('ops gets fleet frames again without subscribing again');
  t.ok((await opsSnapshot).jobs.some((j) => j.job === job.id), "the re-sent sub brings a snapshot holding the rider's live job");
  t.ok(rider.following.has(job.id), 'still followed');
  await driver.arrived(job.id); // the driver resumed its job on the new socket
});

t.test('a refused token (401) asks the provider again; a static refused token stops the client', async (t) => {
  const s = await startServer();
  t.teardown(async () => { await s.stop(); removeDir(s.dataDir); });
  const reasons: TokenReason[] = [];
  const rider = new RiderClient({
    url: s.wsUrl, ...FAST,
    token: async (why) => { reasons.push(why); return why === 'initial' ? s.token('rider', 'sdk-r3', -60) : s.token('rider', 'sdk-r3'); },
  });
  t.teardown(() => rider.close());
  await rider.connect();
  t.same(reasons, ['initial', 'refused'], 'the expired token was refused and replaced');

  const fixed = new RiderClient({ url: s.wsUrl, ...FAST, token: 'not-a-jwt' });
  const err = await fixed.connect().catch((e: ClientError) => e);
  t.equal((err as ClientError).code, 'unauthorized');
  t.ok(fixed.stopped, 'no provider: nothing to retry with');
});

t.test('a socket replaced by a newer one of the same driver stops without reconnecting', async (t) => {
  const s = await startServer();
  t.teardown(async () => { await s.stop(); removeDir(s.dataDir); });
  const first = new DriverClient({ url: s.wsUrl, token: await s.token('driver', 'sdk-d4'), ...FAST });
  await first.connect();
  let reopened = 0;
  first.on('open', () => reopened++);
  const stopped = next<{ code: number; error?: ClientError }>((fn) => first.on('stopped', fn));
  const second = new DriverClient({ url: s.wsUrl, token: await s.token('driver', 'sdk-d4'), ...FAST });
  t.teardown(() => Promise.all([first.close(), second.close()]));
  await second.connect();
  const st = await stopped;
  t.equal(st.code, CloseCodes.replaced);
  t.equal(st.error?.code, 'replaced');
  await sleep(1000);
  t.equal(reopened, 0, 'the replaced client did not reconnect');
  t.ok(second.connected, 'the newer socket stays');
  const err = await first.setStatus('available').catch((e: ClientError) => e);
  t.equal((err as ClientError).code, 'not_connected');
});
