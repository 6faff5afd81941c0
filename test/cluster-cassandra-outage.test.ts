// Issue #4 acceptance, through the real server in cluster mode (Redis + Cassandra): the Porto fleet replayed over
// driver sockets and riders creating jobs over HTTP, with the Cassandra node frozen (SIGSTOP) 20 s mid-replay.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { DEFAULT_PORTO_FILE } from '../src/sim/replay.js';
import { replayFleet } from '../src/sim/replay-fleet.js';
import { loadPortoFleet } from '../src/sim/replay-porto.js';
import { CassandraStorage } from '../src/storage/cassandra/cassandra-storage.js';
import { countRawChunkFixes, countTracked, metricValue, OwnCassandraNode, REPO } from './helpers/cassandra.js';
import { freePort, redisSkip, stopTestRedis, testPrefix, testRedisUrl } from './helpers/redis.js';
import { NO_JOB_LIMITS, SECRET, http, removeDir, sleep, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { skipOrFail } from './helpers/services.js';

const REPLAY_MS = 45_000; // the 9.3 recorded hours, compressed
const OUTAGE_AT_MS = 10_000;
const OUTAGE_MS = 20_000;
const JOB_EVERY_MS = 100;
const KEYSPACE = 'taxiway_cluster_outage';
const DC = 'datacenter1';

// Redis first (cheap to check); the Cassandra node of our own only when Redis is there.
let skip: string | false = await redisSkip();
const port = await freePort();
const storagePort = await freePort();
const nodeDir = path.join(REPO, '.cassandra', `cluster-outage-${port}`);
let node: OwnCassandraNode | undefined;
if (!skip) {
  try {
    node = await OwnCassandraNode.start(nodeDir, port, storagePort);
  } catch (err) {
    skip = skipOrFail('Cassandra (a node of its own, to freeze)', (err as Error).message);
  }
}

// cassandra-driver 4.10 quirk: once its node was frozen, a pool can schedule a reconnect timer after
// Client.shutdown(), which holds the process open (`taxiway` itself exits explicitly). Exit once tap is
// done; the timer is unref'd, so it only fires when something else holds the process.
t.teardown(() => {
  setTimeout(() => process.exit(), 3000).unref();
});

t.test('cluster mode, Cassandra frozen 20 s mid-replay: stored fixes = accepted, no duplicates, every job event there', { skip }, async (t) => {
  const own = node!;
  const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-cluster-outage-spool-'));
  t.teardown(async () => {
    await own.stop();
    fs.rmSync(nodeDir, { recursive: true, force: true });
    fs.rmSync(spoolDir, { recursive: true, force: true });
    await stopTestRedis();
  });
  const s: TestServer = await startServer({
    REDIS_URL: (await testRedisUrl())!,
    TAXIWAY_REDIS_PREFIX: testPrefix(),
    CASSANDRA_CONTACT_POINTS: own.contactPoint,
    CASSANDRA_LOCAL_DC: DC,
    CASSANDRA_KEYSPACE: KEYSPACE,
    CASSANDRA_REPLICATION: 'simple:1',
    CASSANDRA_SPOOL_DIR: spoolDir,
    TAXIWAY_MIGRATE: '1',
    ...NO_JOB_LIMITS, // 434 jobs from 20 riders in a few seconds
  });
  t.teardown(async () => {
    await s.stop();
    removeDir(s.dataDir);
  });
  t.equal(s.app.config.mode, 'cluster', 'the node runs in cluster mode');
  if (!(s.app.storage instanceof CassandraStorage)) throw new Error('the node did not pick Cassandra storage');
  const storage = s.app.storage;
  const registry = s.app.metrics.registry;

  const fleet = loadPortoFleet(DEFAULT_PORTO_FILE);
  const speed = (fleet.lastTs - fleet.firstTs) / REPLAY_MS;
  const start = Date.now();
  let done = false;
  const replay = replayFleet({ fleet, url: s.wsUrl, secret: SECRET, speed }).finally(() => (done = true));

  // The outage: freeze the node at 10 s, resume it at 30 s; watch the adapter spool meanwhile.
  let sawSpooling = false;
  let maxSpoolBytes = 0;
  const outage = (async () => {
    await sleep(OUTAGE_AT_MS - (Date.now() - start));
    own.signal('SIGSTOP');
    t.comment(`Cassandra frozen (SIGSTOP) at ${Date.now() - start} ms`);
    while (Date.now() - start < OUTAGE_AT_MS + OUTAGE_MS) {
      const st = storage.stats();
      sawSpooling ||= st.mode === 'spooling';
      maxSpoolBytes = Math.max(maxSpoolBytes, st.spoolBytes);
      await sleep(100);
    }
    own.signal('SIGCONT');
    t.comment(`Cassandra resumed (SIGCONT) at ${Date.now() - start} ms`);
  })();

  // Riders: a job every 100 ms at a pickup in Porto. Replayed taxis never go available, so each one is
  // dispatched and ends unfulfilled: two job events per job, written by the real job service.
  const created: Array<Promise<{ status: number; body: any }>> = [];
  const riders = (async () => {
    let k = 0;
    while (!done) {
      const rider = `rider-${k % 20}`;
      const pickup = { lat: 41.15 + ((k * 37) % 100) / 5000, lng: -8.61 + ((k * 53) % 100) / 5000 };
      created.push(s.token('rider', rider).then((tok) => http('POST', `${s.url}/v1/jobs`, tok, { pickup, dropoff: { lat: 41.16, lng: -8.62 } })));
      k++;
      await sleep(JOB_EVERY_MS);
    }
  })();

  const r = await replay;
  await Promise.all([outage, riders]);
  t.comment(`replayed ${r.sent} fixes of ${r.taxis} taxis in ${r.seconds.toFixed(1)} s; ${created.length} jobs created`);
  t.equal(r.sent, fleet.fixes, 'every recorded fix sent');
  const jobs = await Promise.all(created);
  t.equal(jobs.filter((j) => j.status !== 201).length, 0, `all ${jobs.length} job creations answered 201, Cassandra frozen or not`);
  t.ok(jobs.length > 200, `${jobs.length} jobs created during the replay`);

  s.app.ingest.flush();
  await storage.flush();
  t.ok(sawSpooling, 'writes went to the spool while Cassandra was frozen');
  t.ok(maxSpoolBytes > 0, `spool held up to ${maxSpoolBytes} bytes`);
  t.ok(await storage.drain(90_000), 'the spool drained into Cassandra after it came back');
  t.equal(storage.stats().mode, 'direct', 'back to direct writes');

  const accepted = (await s.app.metrics.fixesAccepted.get()).values[0]!.value;
  const rejected = await metricValue(registry, 'taxiway_fixes_rejected_total');
  t.equal(accepted + rejected, r.sent, `every fix judged: ${accepted} accepted, ${rejected} rejected`);
  t.ok(accepted > 30_000, `${accepted} fixes accepted by the server`);
  t.equal(await metricValue(registry, 'taxiway_fixes_persisted_total'), accepted, 'taxiway_fixes_persisted_total = taxiway_fixes_accepted_total');
  t.ok(await metricValue(registry, 'taxiway_storage_spooled_total', { kind: 'fixes' }) > 0, 'fixes went through the spool');
  t.ok(await metricValue(registry, 'taxiway_storage_spooled_total', { kind: 'job_events' }) > 0, 'job events went through the spool');

  // Through the adapter: every accepted fix once per (driver, ts).
  const drivers = fleet.taxis.map((tx) => `porto-${tx.taxi}`);
  const stored = await countTracked(storage, drivers);
  t.equal(stored, accepted, 'stored fixes (track) = accepted');

  // Under the adapter: the chunks hold no second copy of any fix (retries and spool replays overwrote).
  const raw = await countRawChunkFixes({ contactPoints: [own.contactPoint], localDataCenter: DC, consistency: 'LOCAL_QUORUM' }, KEYSPACE, drivers);
  t.equal(raw, accepted, 'fixes in stored chunks = accepted: no duplicates');

  // Every job: events 1..n in order, created as dispatching, ending in the state the server reports now.
  const ops = await s.token('ops', 'ops-check');
  const bad: string[] = [];
  let events = 0;
  for (const j of jobs) {
    const id = j.body.id as string;
    const now = await http('GET', `${s.url}/v1/jobs/${id}`, ops);
    const evs = await storage.jobEvents(id);
    events += evs.length;
    const ok = now.status === 200 && evs.length >= 2 && evs.every((e, k) => e.seq === k + 1) && evs[0]!.state === 'dispatching' && evs.at(-1)!.state === now.body.state;
    if (!ok) bad.push(`${id}: ${JSON.stringify(evs.map((e) => [e.seq, e.state]))} vs ${now.status} ${now.body?.state}`);
  }
  t.same(bad.slice(0, 5), [], `all ${events} job events of ${jobs.length} jobs stored, seqs 1..n, the final state last`);
  const states = new Map<string, number>();
  for (const j of jobs) states.set(j.body.state, (states.get(j.body.state) ?? 0) + 1);
  t.comment(`job states: ${JSON.stringify(Object.fromEntries(states))}`);

  // Through HTTP: the busiest taxi's track as ops sees it = what the adapter stored.
  const busiest = fleet.taxis.reduce((a, b) => (b.ts.length > a.ts.length ? b : a));
  const id = `porto-${busiest.taxi}`;
  const viaHttp = await http('GET', `${s.url}/v1/drivers/${id}/track?from=0&to=${Date.now() + 60_000}&limit=10000`, ops);
  const direct = await storage.track(id, 0, Date.now() + 60_000, 10_000);
  t.equal(viaHttp.status, 200, 'GET /v1/drivers/:id/track answers ops');
  t.ok(direct.points.length > 100, `${id} has ${direct.points.length} stored points`);
  t.same(viaHttp.body, JSON.parse(JSON.stringify(direct)), `${id}: the HTTP track is the stored track`);
});
