// End to end over a real driver socket: a resent old fix never changes the stored track (first write wins).
import t from 'tap';
import { Client, http, removeDir, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';

let s: TestServer;
t.before(async () => {
  s = await startServer();
});
t.teardown(async () => {
  await s.stop();
  removeDir(s.dataDir);
});

/** The value of a counter without labels in a Prometheus text page. */
function counter(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(' ')[1]);
}

t.test('a fix resent outside the recent ring is acked but the track keeps the first write', async (t) => {
  const c = await Client.open(`${s.wsUrl}/v1/driver/ws`, await s.token('driver', 'integrity-d'));
  await c.waitFor((f) => f.t === 'hello');
  const t0 = Date.now() - 60_000;
  const A = { lat: 43.7, lng: 7.4, hdg: 90, spd: 5.5, acc: 3 };
  t.equal((await c.request({ t: 'loc', ts: t0, ...A })).t, 'ack');
  for (let i = 1; i <= 20; i++) {
    t.equal((await c.request({ t: 'loc', ts: t0 + i * 1000, lat: 43.7 + i * 1e-5, lng: 7.4 })).t, 'ack');
  }
  // The same ts again, other position, no optional values: 20 accepted fixes later it is outside the ring
  // of the last 8, so ingest cannot tell it from an out-of-order fix and acks it as accepted.
  const again = await c.request({ t: 'locs', pts: [[t0, 43.7002, 7.4002]] });
  t.same([again.accepted, again.rejected, again.duplicates], [1, 0, 0], 'the ack counts what ingest knows: recent duplicates only');
  // The resend entered the ring: the same ts once more is now a duplicate ingest drops (a `loc` ack carries no counts).
  t.equal((await c.request({ t: 'loc', ts: t0, lat: 43.7001, lng: 7.4001, hdg: 10 })).t, 'ack');
  // A second old ts resent as a single `loc`: acked, discarded by storage.
  t.equal((await c.request({ t: 'loc', ts: t0 + 1000, lat: 43.7004, lng: 7.4004, hdg: 10 })).t, 'ack', 'as a single loc too');
  // Within the ring it is a counted duplicate, as before.
  const recent = await c.request({ t: 'locs', pts: [[t0 + 20_000, 43.7003, 7.4]] });
  t.same([recent.accepted, recent.duplicates], [0, 1]);
  s.app.ingest.flush();
  await s.app.storage.flush();
  const ops = await s.token('ops', 'ops1');
  const before = counter((await http('GET', `${s.url}/metrics`)).body as unknown as string, 'taxiway_fix_duplicates_stored_total');
  const tr = await http('GET', `${s.url}/v1/drivers/integrity-d/track?from=${t0}&to=${t0 + 60_000}`, ops);
  t.equal(tr.status, 200);
  t.equal(tr.body.points.length, 21, 'every ts once');
  t.same(tr.body.points[0], [t0, A.lat, A.lng, A.hdg, A.spd, A.acc], 'the first write, every field');
  t.same(tr.body.points[1], [t0 + 1000, 43.7 + 1e-5, 7.4, null, null, null], 'the first write, without the resend\'s hdg');
  t.same(tr.body.points.at(-1), [t0 + 20_000, 43.7002, 7.4, null, null, null]);
  const after = counter((await http('GET', `${s.url}/metrics`)).body as unknown as string, 'taxiway_fix_duplicates_stored_total');
  t.ok(after - before >= 2, `taxiway_fix_duplicates_stored_total counts the discarded copies (${before} -> ${after})`);
  c.close();
});
