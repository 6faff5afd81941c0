// CASSANDRA_START_OFFLINE: a node that starts while no contact point answers serves, spools, and delivers it all once Cassandra answers.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { cassandraSettingsFromEnv } from '../src/config/cassandra-settings.js';
import { openCassandraStorage } from '../src/storage/cassandra/cassandra-storage.js';
import type { StoredFix } from '../src/storage/ports.js';
import { testCassandra, testSettings } from './helpers/cassandra.js';
import { freePort } from './helpers/redis.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-offline-'));
t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
// Before any test is queued: tap ends a file whose queue empties while it awaits.
const cluster = await testCassandra();
const settings = typeof cluster === 'string' ? null : await testSettings(cluster, 'taxiway_test_offline', path.join(base, 'unused'));

t.test('CASSANDRA_START_OFFLINE is a 1/0 flag, off by default', async (t) => {
  const env = { CASSANDRA_CONTACT_POINTS: '127.0.0.1:9042' };
  t.equal(cassandraSettingsFromEnv(env, base).startOffline, false);
  t.equal(cassandraSettingsFromEnv({ ...env, CASSANDRA_START_OFFLINE: '1' }, base).startOffline, true);
  t.throws(() => cassandraSettingsFromEnv({ ...env, CASSANDRA_START_OFFLINE: 'yes' }, base), /CASSANDRA_START_OFFLINE=yes: expected 1 or 0/);
});

if (typeof cluster === 'string' || !settings) {
  t.test('offline start', { skip: String(cluster) }, async () => {});
} else {
  const [host, portRaw] = cluster.contactPoints[0]!.split(':');
  const target = { host: host!, port: Number(portRaw ?? 9042) };

  t.test('without the flag a node whose Cassandra does not answer fails to start', async (t) => {
    const dead = await freePort();
    await t.rejects(openCassandraStorage({ settings: { ...settings, contactPoints: [`127.0.0.1:${dead}`], spoolDir: path.join(base, 'a') } }));
  });

  t.test('with it: accepted fixes and job events spool, then reach Cassandra once it answers', async (t) => {
    // Cassandra "comes back" when a TCP proxy to the real node starts listening on the contact point.
    const port = await freePort();
    const storage = await openCassandraStorage({
      settings: { ...settings, contactPoints: [`127.0.0.1:${port}`], spoolDir: path.join(base, 'b'), startOffline: true },
      tuning: { chunkMs: 200, retryMinMs: 100, retryMaxMs: 500, closeTimeoutMs: 10_000 },
    });
    const driver = `off-${Date.now()}`;
    const t0 = Date.now() - 60_000;
    const fixes: StoredFix[] = Array.from({ length: 30 }, (_, i) => ({ driver, ts: t0 + i * 1000, lat: 41.15 + i * 1e-4, lng: -8.61, hdg: NaN, spd: 5, acc: NaN }));
    storage.appendFixes(fixes);
    const rec = { id: `j_off_${Date.now()}`, state: 'dispatching' as const, rider: 'r-off', driver: null, pickup: { lat: 41.15, lng: -8.61 }, dropoff: null, product: 'standard', city: 'porto', created_ts: t0, updated_ts: t0, times: { dispatching: t0 } };
    await storage.appendJobEvent({ job: rec.id, seq: 1, ts: t0, state: 'dispatching', by: 'rider', snapshot: rec });
    await storage.flush();
    t.equal(storage.stats().mode, 'spooling', 'Cassandra unreachable: writes are in the spool');
    t.equal(await storage.healthy(), false);
    await t.rejects(storage.track(driver, 0, Date.now(), 100));

    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((c) => {
      const up = net.connect(target.port, target.host);
      sockets.add(c).add(up);
      c.pipe(up).pipe(c);
      const end = (): void => { c.destroy(); up.destroy(); };
      c.on('error', end);
      up.on('error', end);
    });
    await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', r));
    t.teardown(() => {
      for (const s of sockets) s.destroy();
      proxy.close();
    });
    t.ok(await storage.drain(30_000), 'the spool drained into Cassandra');
    t.equal(storage.stats().mode, 'direct');
    const track = await storage.track(driver, 0, Date.now(), 100);
    t.equal(track.points.length, 30, 'every fix accepted while offline is in Cassandra');
    t.equal((await storage.jobEvents(rec.id)).length, 1, 'and the job event');
    await storage.close();
  });
}
