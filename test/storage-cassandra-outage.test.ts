// Outage: real Porto traces through the real ingest rules into CassandraStorage, with the Cassandra node frozen 20 s mid-replay.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import t from 'tap';
import { FleetRegistry } from '../src/fleet/fleet-registry.js';
import { Ingest } from '../src/ingest/ingest.js';
import { Metrics } from '../src/observability/metrics.js';
import { DEFAULT_PORTO_FILE } from '../src/sim/replay.js';
import { loadPortoFleet } from '../src/sim/replay-porto.js';
import { openCassandraStorage } from '../src/storage/cassandra/cassandra-storage.js';
import type { JobEvent } from '../src/storage/ports.js';
import { countRawChunkFixes, countTracked, metricValue, OwnCassandraNode, REPO, testSettings } from './helpers/cassandra.js';
import { freePort } from './helpers/redis.js';
import { skipOrFail } from './helpers/services.js';

const REPLAY_MS = 45_000; // the 9.3 recorded hours, compressed
const OUTAGE_AT_MS = 10_000;
const OUTAGE_MS = 20_000;
const KEYSPACE = 'taxiway_outage';

const port = await freePort();
const storagePort = await freePort();
const nodeDir = path.join(REPO, '.cassandra', `outage-${port}`);
const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-outage-spool-'));
let node: OwnCassandraNode | string;
try {
  node = await OwnCassandraNode.start(nodeDir, port, storagePort);
} catch (err) {
  node = skipOrFail('Cassandra (a node of its own, to freeze)', (err as Error).message);
}

// cassandra-driver 4.10 quirk: once its node was frozen, a pool can schedule a reconnect timer after
// Client.shutdown(), which holds the process open (`taxiway` itself exits explicitly). Exit once tap is
// done; the timer is unref'd, so it only fires when something else holds the process.
t.teardown(() => {
  setTimeout(() => process.exit(), 3000).unref();
});

t.test('Cassandra frozen for 20 s mid-replay: every accepted fix stored once, every job event there', { skip: typeof node === 'string' ? node : false }, async (t) => {
  const own = node as OwnCassandraNode;
  t.teardown(async () => {
    await own.stop();
    fs.rmSync(nodeDir, { recursive: true, force: true });
    fs.rmSync(spoolDir, { recursive: true, force: true });
  });
  const settings = await testSettings({ contactPoints: [own.contactPoint], localDataCenter: 'datacenter1' }, KEYSPACE, spoolDir);
  const registry = new Registry();
  const storage = await openCassandraStorage({
    settings,
    registry,
    tuning: { chunkMs: 1000, writeTimeoutMs: 2000, retryMaxMs: 2000, maxQueueFixes: 20_000, closeTimeoutMs: 60_000 },
  });
  t.teardown(() => storage.close());
  const metrics = new Metrics();
  const fleetReg = new FleetRegistry({ cities: [{ name: 'porto', timezone: 'Europe/Lisbon', boundary: null }], rebuildMs: 200, expireMs: 3_600_000 });
  const ingest = new Ingest(fleetReg, storage, metrics);

  // The whole Porto fleet, re-timed as `taxiway replay` does: recorded spacing, the last fix stamped "now".
  const fleet = loadPortoFleet(DEFAULT_PORTO_FILE);
  const speed = (fleet.lastTs - fleet.firstTs) / REPLAY_MS;
  const order: Array<[number, number, number]> = [];
  fleet.taxis.forEach((tx, k) => tx.ts.forEach((ts, i) => order.push([ts, k, i])));
  order.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const expectedEvents = new Map<string, number>();
  const eventWrites: Array<Promise<void>> = [];
  const states = ['dispatching', 'accepted', 'in_progress', 'completed'] as const;
  const start = Date.now();
  const shift = start + REPLAY_MS - fleet.lastTs;
  let outage: 'before' | 'during' | 'after' = 'before';
  let sawSpooling = false;
  let maxSpoolBytes = 0;
  let i = 0;
  while (i < order.length) {
    const now = Date.now();
    if (outage === 'before' && now - start >= OUTAGE_AT_MS) {
      own.signal('SIGSTOP');
      outage = 'during';
      t.comment(`Cassandra frozen (SIGSTOP) after ${i} fixes`);
    } else if (outage === 'during' && now - start >= OUTAGE_AT_MS + OUTAGE_MS) {
      own.signal('SIGCONT');
      outage = 'after';
      t.comment(`Cassandra resumed (SIGCONT) after ${i} fixes`);
    }
    if (outage === 'during') {
      sawSpooling ||= storage.stats().mode === 'spooling';
      maxSpoolBytes = Math.max(maxSpoolBytes, storage.stats().spoolBytes);
    }
    for (; i < order.length && start + (order[i]![0] - fleet.firstTs) / speed <= now; i++) {
      const [ts, k, f] = order[i]!;
      const tx = fleet.taxis[k]!;
      const driver = `porto-${tx.taxi}`;
      ingest.accept(driver, { ts: ts + shift, lat: tx.lat[f]!, lng: tx.lng[f]!, hdg: NaN, spd: NaN, acc: NaN }, now);
      // A job every 10 fixes of a taxi, its 4 events spread over the next fixes.
      const seq = (f % 10) / 3 + 1;
      if (Number.isInteger(seq)) {
        const job = `${driver}-j${Math.floor(f / 10)}`;
        const created = Math.floor(fleet.firstTs + shift);
        const ev: JobEvent = { job, seq, ts: now, state: states[seq - 1]!, by: 'dispatch', snapshot: {
          id: job, state: states[seq - 1]!, rider: `rider-${k}`, driver: seq > 1 ? driver : null, pickup: { lat: tx.lat[f]!, lng: tx.lng[f]! },
          dropoff: null, product: 'std', city: 'porto', created_ts: created, updated_ts: now, times: {} } };
        expectedEvents.set(job, seq);
        eventWrites.push(storage.appendJobEvent(ev));
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  ingest.flush();
  t.comment(`replayed ${order.length} fixes in ${Date.now() - start} ms`);
  await Promise.all(eventWrites); // every event durable (Cassandra or spool)
  await storage.flush();
  t.ok(sawSpooling, 'writes went to the spool while Cassandra was frozen');
  t.ok(maxSpoolBytes > 0, `spool held up to ${maxSpoolBytes} bytes`);
  t.ok(await storage.drain(90_000), 'the spool drained into Cassandra after it came back');
  t.equal(storage.stats().mode, 'direct', 'back to direct writes');

  const accepted = (await metrics.fixesAccepted.get()).values[0]!.value;
  t.ok(accepted > 30_000, `${accepted} fixes accepted by the ingest rules`);
  t.equal(await metricValue(registry, 'taxiway_fixes_persisted_total'), accepted, 'taxiway_fixes_persisted_total = taxiway_fixes_accepted_total');
  t.ok(await metricValue(registry, 'taxiway_storage_spooled_total', { kind: 'fixes' }) > 0, 'fixes went through the spool');

  // Through the adapter: every accepted fix once per (driver, ts).
  const drivers = fleet.taxis.map((tx) => `porto-${tx.taxi}`);
  const stored = await countTracked(storage, drivers);
  t.equal(stored, accepted, 'stored fixes (track) = accepted');

  // Under the adapter: the chunks themselves hold no second copy of any fix (retries and replays overwrote).
  const raw = await countRawChunkFixes(settings, KEYSPACE, drivers);
  t.equal(raw, accepted, 'fixes in stored chunks = accepted: no duplicates');

  let missing = 0;
  for (const [job, lastSeq] of expectedEvents) {
    const seqs = (await storage.jobEvents(job)).map((e) => e.seq);
    if (seqs.length !== lastSeq || seqs.some((s, k) => s !== k + 1)) missing++;
  }
  t.equal(missing, 0, `all ${eventWrites.length} job events of ${expectedEvents.size} jobs stored, in order`);
});
