// Contract suite for the delivery path (JobNotifier → bus → ws/hub → sockets), run on the in-memory and the Redis bus.
import type net from 'node:net';
import type { JobNotifier } from '../../src/bus/deliveries.js';
import type { JobRecord } from '../../src/storage/ports.js';
import { encodeFrame } from '../../src/protocol/codec.js';
import { CloseCodes } from '../../src/protocol/errors.js';
import { Client, http, sleep } from '../helpers/server.js';
import type { Frame, TestServer } from '../helpers/server.js';
import type { TapTest } from './storage-contract.js';

/** A node: a real taxiway server and a notifier publishing on its bus (as its matching does). */
export interface DeliveryNode {
  server: TestServer;
  notifier: JobNotifier;
}

/** Test servers start with this backpressure limit (the smallest allowed), so slow sockets queue sooner. */
/** The suite's jobs stay live (no driver will come): a final job's frame ends following (ws/hub.ts). */
export const DELIVERY_ENV = { TAXIWAY_MAX_BACKPRESSURE_BYTES: '16384', TAXIWAY_SEARCH_WINDOW_MS: '600000' };

const PICKUP = { lat: 43.7384, lng: 7.4246 };

async function until(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await sleep(10);
  }
  return pred();
}

async function driverOn(node: DeliveryNode, id: string): Promise<Client> {
  const c = (await Client.open(`${node.server.wsUrl}/v1/driver/ws`, await node.server.token('driver', id))).exemptInjected(injected);
  await c.waitFor((f) => f.t === 'hello');
  return c;
}

/** A rider on `node` that created a job (on `node`) and follows it; `rec` is the job as stored. */
async function riderFollowing(node: DeliveryNode, rider: string): Promise<{ c: Client; rec: JobRecord }> {
  const token = await node.server.token('rider', rider);
  const made = await http('POST', `${node.server.url}/v1/jobs`, token, { pickup: PICKUP });
  if (made.status !== 201) throw new Error(`job not created: ${JSON.stringify(made)}`);
  const c = (await Client.open(`${node.server.wsUrl}/v1/rider/ws`, token)).exemptInjected(injected);
  const ack = await c.request({ t: 'sub', job: made.body.id });
  if (ack.t !== 'ack') throw new Error(`sub refused: ${JSON.stringify(ack)}`);
  await c.waitFor((f) => f.t === 'job' && f.job === made.body.id);
  const rec = (await http('GET', `${node.server.url}/v1/jobs/${made.body.id}`, token)).body as JobRecord;
  // The suite injects its own changes of this job: as a live job's (no driver here, so the real job may
  // already be final, and a final state ends following: ws/hub.ts).
  return { c, rec: { ...rec, state: 'dispatching' } };
}

/** The probe frames this suite injects into the bus (no server code builds them): not held to docs/asyncapi.json. */
const injected = (f: Frame): boolean => f.probe !== undefined;
const probes = (c: Client, kind: string): number[] => c.frames.filter((f: Frame) => f.probe === kind).map((f) => f.n as number);

/** Stop reading a client's socket, so the server's side of it backs up. */
function pause(c: Client): net.Socket {
  const s = (c.ws as unknown as { _socket: net.Socket })._socket;
  s.pause();
  return s;
}

/**
 * Send big reliable job frames to `rec`'s followers until `rider`'s socket on `holder` has frames
 * waiting in its queue (the client stopped reading); returns how many were sent (probe `fill`).
 */
async function backUp(from: DeliveryNode, holder: DeliveryNode, rec: JobRecord, rider: string): Promise<number> {
  const pad = 'x'.repeat(60 * 1024);
  const queued = (): boolean => [...holder.server.app.hub.sockets].some((ws) => {
    const ud = ws.getUserData();
    return ud.role === 'rider' && ud.sub === rider && ud.pending.length > 0;
  });
  let n = 0;
  while (!queued()) {
    if (n >= 2000) throw new Error('the socket never backed up');
    for (let i = 0; i < 8; i++, n++) from.notifier.jobChanged(rec, encodeFrame({ t: 'job', id: rec.id, probe: 'fill', n, pad }));
    await sleep(20);
  }
  return n;
}

/**
 * `make` returns two nodes sharing a bus (for the in-memory bus: one node twice); `stop` ends them.
 * Guarantees checked (bus/deliveries.ts, ws/hub.ts, ws/delivery.ts): a frame for a driver reaches that
 * driver's socket on whichever node holds it, and nobody else; job changes reach the job's followers
 * and ops, reliable and in publish order; positions are latest-only: a slow follower keeps only the
 * newest, which still arrives, and never one older than a frame it already got; a held position is
 * dropped when the job's ride ends (`jobPosEnd`); a driver's newer socket on any node closes the older
 * one with `replaced`.
 */
export function deliveryContract(t: TapTest, name: string, make: () => Promise<[DeliveryNode, DeliveryNode]>, stop: () => Promise<void>): void {
  t.test(`${name}: frames for a driver reach its socket on the node holding it, in order, and no one else`, async (t) => {
    const [a, b] = await make();
    const d1 = await driverOn(b, 'dv1');
    const d2 = await driverOn(a, 'dv2');
    for (let n = 0; n < 300; n++) a.notifier.toDriver('dv1', encodeFrame({ t: 'probe', probe: 'drv', n }));
    a.notifier.toDriver('nobody', encodeFrame({ t: 'probe', probe: 'drv', n: -1 }));
    t.ok(await until(() => probes(d1, 'drv').length === 300, 5000), 'all arrived');
    t.same(probes(d1, 'drv'), Array.from({ length: 300 }, (_, n) => n), 'in order');
    await sleep(100);
    t.same(probes(d2, 'drv'), [], 'another driver gets none');
    d1.close();
    d2.close();
    await stop();
  });

  t.test(`${name}: job changes reach the job's followers and ops, in order; other riders get none`, async (t) => {
    const [a, b] = await make();
    const { c: rider, rec } = await riderFollowing(b, 'rv1');
    const other = await riderFollowing(b, 'rv2');
    const ops = (await Client.open(`${b.server.wsUrl}/v1/ops/ws`, await b.server.token('ops', 'ov1'))).exemptInjected(injected);
    t.equal((await ops.request({ t: 'sub' })).t, 'ack');
    for (let n = 0; n < 200; n++) a.notifier.jobChanged(rec, encodeFrame({ t: 'job', id: rec.id, probe: 'job', n }));
    const all = Array.from({ length: 200 }, (_, n) => n);
    t.ok(await until(() => probes(rider, 'job').length === 200 && probes(ops, 'job').length === 200, 5000), 'all arrived');
    t.same(probes(rider, 'job'), all, 'follower: in order');
    t.same(probes(ops, 'job'), all, 'ops: in order');
    t.same(probes(other.c, 'job'), [], 'a rider following another job gets none');
    // A final state is the job's last frame to its followers (following ends with it); ops still get later ones.
    a.notifier.jobChanged({ ...rec, state: 'completed' }, encodeFrame({ t: 'job', id: rec.id, probe: 'final', n: 0 }));
    t.ok(await until(() => probes(rider, 'final').length === 1 && probes(ops, 'final').length === 1, 5000), 'the final frame arrived');
    a.notifier.jobChanged(rec, encodeFrame({ t: 'job', id: rec.id, probe: 'after', n: 0 }));
    t.ok(await until(() => probes(ops, 'after').length === 1, 5000), 'ops get a change after the final one');
    await sleep(100);
    t.same(probes(rider, 'after'), [], 'the follower does not: following ended with the final frame');
    for (const c of [rider, other.c, ops]) c.close();
    await stop();
  });

  t.test(`${name}: positions are latest-only for a slow follower; reliable frames all arrive, in order`, async (t) => {
    const [a, b] = await make();
    const { c: rider, rec } = await riderFollowing(b, 'rv3');
    const sock = pause(rider);
    const fills = await backUp(a, b, rec, 'rv3');
    for (let n = 0; n < 500; n++) {
      a.notifier.jobPos(rec.id, encodeFrame({ t: 'pos', job: rec.id, probe: 'pos', n }));
      if (n % 100 === 0) a.notifier.jobChanged(rec, encodeFrame({ t: 'job', id: rec.id, probe: 'late', n }));
    }
    await sleep(300); // let every message cross the bus before the client reads again
    sock.resume();
    t.ok(await until(() => probes(rider, 'pos').includes(499), 10_000), 'the newest position arrives');
    t.ok(await until(() => probes(rider, 'late').length === 5, 10_000));
    t.same(probes(rider, 'fill'), Array.from({ length: fills }, (_, n) => n), 'every reliable frame, in order');
    t.same(probes(rider, 'late'), [0, 100, 200, 300, 400]);
    const pos = probes(rider, 'pos');
    t.ok(pos.length < 500, `older positions dropped (${pos.length} of 500 delivered)`);
    t.ok(pos.every((n, i) => i === 0 || n > pos[i - 1]!), 'never an older position after a newer one');
    rider.close();
    await stop();
  });

  t.test(`${name}: a position held for a slow follower is dropped when the ride ends`, async (t) => {
    const [a, b] = await make();
    const { c: rider, rec } = await riderFollowing(b, 'rv4');
    const sock = pause(rider);
    const fills = await backUp(a, b, rec, 'rv4');
    a.notifier.jobPos(rec.id, encodeFrame({ t: 'pos', job: rec.id, probe: 'pos', n: 1 }));
    a.notifier.jobPosEnd(rec.id);
    a.notifier.jobChanged(rec, encodeFrame({ t: 'job', id: rec.id, probe: 'late', n: 1 }));
    await sleep(300);
    sock.resume();
    t.ok(await until(() => probes(rider, 'late').length === 1, 10_000));
    await sleep(200);
    t.equal(probes(rider, 'fill').length, fills);
    t.same(probes(rider, 'pos'), [], 'no position after the ride ended');
    rider.close();
    await stop();
  });

  t.test(`${name}: a driver's newer socket on any node closes the older one (replaced)`, async (t) => {
    const [a, b] = await make();
    const old = await driverOn(a, 'dv5');
    const fresh = await driverOn(b, 'dv5');
    t.equal(await old.waitClose(5000), CloseCodes.replaced);
    a.notifier.toDriver('dv5', encodeFrame({ t: 'probe', probe: 'drv', n: 7 }));
    t.ok(await until(() => probes(fresh, 'drv').length === 1, 5000), 'the newer socket gets the driver\'s frames');
    fresh.close();
    await stop();
  });
}
