// Cluster mode, hostile riders: a stranger's `sub` never receives another rider's job, the followed-jobs
// limit holds for a burst, and a closed socket's queued actions are dropped (two real nodes, real Redis).
import t from 'tap';
import { Client, NO_JOB_LIMITS, http, sleep } from './helpers/server.js';
import type { Frame } from './helpers/server.js';
import { redisSkip, stopTestRedis, testRedisUrl } from './helpers/redis.js';
import { startCluster } from './helpers/cluster.js';
import type { Cluster, Node } from './helpers/cluster.js';

const skip = await redisSkip();

/** Sum of a counter's samples on `node` whose labels contain every `labels` fragment. */
async function metric(node: Node, name: string, ...labels: string[]): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (labels.every((l) => line.includes(l))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function driverOn(c: Cluster, node: Node, id: string, lat: number, lng: number): Promise<Client> {
  const d = await Client.open(`${node.wsUrl}/v1/driver/ws`, await c.token('driver', id));
  await d.waitFor((f) => f.t === 'hello');
  await d.request({ t: 'loc', lat, lng, ts: Date.now() });
  await d.request({ t: 'status', s: 'available' });
  return d;
}

if (skip) t.test('cluster rider isolation', { skip }, async () => {});
else {
  const url = (await testRedisUrl())!;
  t.teardown(() => stopTestRedis());

  t.test("a stranger looping `sub` on another rider's job receives none of its frames", async (t) => {
    const c = await startCluster(url, 2);
    t.teardown(() => c.stop());
    const [A, B] = c.nodes as [Node, Node];
    const owner = await c.token('rider', 'iso-owner');
    const strangers = [
      await Client.open(`${A.wsUrl}/v1/rider/ws`, await c.token('rider', 'iso-stranger-a')),
      await Client.open(`${B.wsUrl}/v1/rider/ws`, await c.token('rider', 'iso-stranger-b')),
    ];
    const mine = await Client.open(`${B.wsUrl}/v1/rider/ws`, owner);
    const d = await driverOn(c, A, 'iso-d1', 43.73, 7.42);
    const jobs: string[] = [];
    let looping = true;
    const loops: Array<Promise<void>> = [];
    let answers = 0;
    const loop = async (s: Client): Promise<void> => {
      while (looping) {
        const job = jobs[jobs.length - 1];
        if (!job) {
          await sleep(1);
          continue;
        }
        const r = await s.request({ t: 'sub', job });
        if (r.t === 'err' && r.code === 'not_found') answers++;
      }
    };
    for (const s of strangers) for (let i = 0; i < 3; i++) loops.push(loop(s));
    let lat = 43.73;
    for (let trip = 0; trip < 3; trip++) {
      const created = await http('POST', `${A.url}/v1/jobs`, owner, { pickup: { lat: 43.7301, lng: 7.42 }, dropoff: { lat: 43.74, lng: 7.43 } });
      t.equal(created.status, 201);
      const job = created.body.id as string;
      jobs.push(job);
      t.equal((await mine.request({ t: 'sub', job })).t, 'ack', 'the owner may follow');
      await d.waitFor((f) => f.t === 'offer' && f.job === job, 5000);
      for (const step of ['accept', 'arrived', 'start'] as const) {
        t.equal((await d.request({ t: step, job })).t, 'ack', step);
        for (let i = 0; i < 12; i++) {
          lat += 0.00002;
          d.send({ t: 'loc', lat, lng: 7.42, ts: Date.now() });
          await sleep(100);
        }
      }
      const mark = mine.frames.length;
      t.equal((await d.request({ t: 'complete', job })).t, 'ack');
      await mine.waitFor((f) => f.t === 'job' && f.state === 'completed', 3000, mark);
    }
    await sleep(300);
    looping = false;
    await Promise.all(loops);
    t.ok(answers > 50, `strangers were refused ${answers} times`);
    const ownerPos = mine.frames.filter((f) => f.t === 'pos').length;
    t.ok(ownerPos > 0, `the owner got ${ownerPos} pos frames`);
    for (const s of strangers) {
      const leaked = s.frames.filter((f: Frame) => (f.t === 'job' || f.t === 'pos'));
      t.same(leaked, [], 'no job or pos frame reached a stranger');
    }
    for (const s of [...strangers, mine]) s.close();
    d.close();
  });

  t.test('130 `sub`s in one burst: exactly 100 acked (followed plus pending)', async (t) => {
    // One rider holds 130 jobs, kept live (searching for 10 minutes): following ends at a job's final frame
    // (2026-12-05), so jobs that ended at once would free their places and the cap would not be tested.
    const c = await startCluster(url, 2, { TAXIWAY_WS_MAX_PENDING_ACTIONS: '500', TAXIWAY_SEARCH_WINDOW_MS: '600000', ...NO_JOB_LIMITS });
    t.teardown(() => c.stop());
    const [A, B] = c.nodes as [Node, Node];
    const rider = await c.token('rider', 'burst-r');
    const ids: string[] = [];
    for (let i = 0; i < 130; i++) {
      const r = await http('POST', `${A.url}/v1/jobs`, rider, { pickup: { lat: 10 + i * 0.001, lng: 10 } });
      t.equal(r.status, 201);
      ids.push(r.body.id as string);
    }
    const s = await Client.open(`${B.wsUrl}/v1/rider/ws`, rider);
    ids.forEach((job, i) => s.send({ t: 'sub', job, id: i + 1 }));
    const end = Date.now() + 10_000;
    const answered = (): Frame[] => s.frames.filter((f) => (f.t === 'ack' || f.t === 'err') && typeof f.id === 'number');
    while (answered().length < 130 && Date.now() < end) await sleep(20);
    const acks = answered().filter((f) => f.t === 'ack').length;
    const limited = answered().filter((f) => f.t === 'err' && f.code === 'rate_limited').length;
    t.equal(acks, 100, 'exactly 100 acked');
    t.equal(limited, 30, 'the other 30 answered rate_limited');
    s.close();
  });

  t.test("a closed socket's queued actions are dropped; the queue is bounded", async (t) => {
    const c = await startCluster(url, 2, { TAXIWAY_WS_MAX_PENDING_ACTIONS: '100000' });
    t.teardown(() => c.stop());
    const [A] = c.nodes as [Node, Node];
    const s = await Client.open(`${A.wsUrl}/v1/rider/ws`, await c.token('rider', 'flood-r'));
    const N = 30_000;
    for (let i = 0; i < N; i++) s.send({ t: 'sub', job: 'no-such-job', id: i });
    // Wait until the node has the frames (the first answers arrive), then go away.
    await s.waitFor((f) => f.t === 'err', 5000);
    s.close();
    await s.waitClose();
    await sleep(500);
    const ran = await metric(A, 'taxiway_ws_actions_total', 'role="rider"', 'result="run"');
    await sleep(1000);
    const ranLater = await metric(A, 'taxiway_ws_actions_total', 'role="rider"', 'result="run"');
    const dropped = await metric(A, 'taxiway_ws_actions_total', 'role="rider"', 'result="dropped"');
    t.equal(ranLater, ran, `idle after the close: ${ran} actions ran, none since`);
    t.ok(ran < N, `not every queued action ran (${ran} of ${N})`);
    t.ok(dropped > 0 && dropped + ran <= N, `${dropped} dropped`);
    // The node still answers at once.
    const ok = await Client.open(`${A.wsUrl}/v1/rider/ws`, await c.token('rider', 'flood-r2'));
    const t0 = Date.now();
    t.equal((await ok.request({ t: 'sub', job: 'nope' })).code, 'not_found');
    t.ok(Date.now() - t0 < 500, `answered in ${Date.now() - t0} ms`);
    ok.close();
  });

  t.test('past the pending-action bound a frame is answered rate_limited at once', async (t) => {
    const c = await startCluster(url, 1, { TAXIWAY_WS_MAX_PENDING_ACTIONS: '16' });
    t.teardown(() => c.stop());
    const [A] = c.nodes as [Node];
    const s = await Client.open(`${A.wsUrl}/v1/rider/ws`, await c.token('rider', 'bound-r'));
    for (let i = 0; i < 500; i++) s.send({ t: 'sub', job: 'no-such-job', id: i });
    const end = Date.now() + 10_000;
    const answers = (): Frame[] => s.frames.filter((f) => f.t === 'err');
    while (answers().length < 500 && Date.now() < end) await sleep(20);
    const limited = answers().filter((f) => f.code === 'rate_limited').length;
    const notFound = answers().filter((f) => f.code === 'not_found').length;
    t.equal(limited + notFound, 500, 'every frame answered');
    t.ok(limited > 0, `${limited} refused at once`);
    t.ok(await metric(A, 'taxiway_ws_actions_total', 'role="rider"', 'result="refused"') === limited, 'counted');
    s.close();
  });
}
