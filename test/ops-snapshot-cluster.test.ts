// The ops live-job snapshot in cluster mode: an ops client on another node gets the live jobs from the shared (Redis) job repository.
import t from 'tap';
import { Client, http } from './helpers/server.js';
import type { Frame } from './helpers/server.js';
import { redisSkip, stopTestRedis, testRedisUrl } from './helpers/redis.js';
import { startCluster } from './helpers/cluster.js';

const skip = await redisSkip();

t.test('a job created through node A is in the snapshot an ops sub on node B gets, with the driver; final jobs are not', { skip }, async (t) => {
  const url = (await testRedisUrl())!;
  t.teardown(() => stopTestRedis());
  const c = await startCluster(url, 2, { TAXIWAY_OFFER_TIMEOUT_MS: '60000' });
  t.teardown(() => c.stop());
  const [A, B] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0]];
  const d = await Client.open(`${A.wsUrl}/v1/driver/ws`, await c.token('driver', 'snc-d1'));
  t.teardown(() => d.close());
  await d.waitFor((f) => f.t === 'hello');
  await d.request({ t: 'loc', lat: 43.73, lng: 7.42, ts: Date.now() });
  await d.request({ t: 'status', s: 'available' });
  const rt = await c.token('rider', 'snc-r1');
  let created: { status: number; body: any } | undefined;
  // A's index picks the driver up within its rebuild interval: retry until the job is offered (not unfulfilled).
  for (let i = 0; i < 40; i++) {
    created = await http('POST', `${A.url}/v1/jobs`, rt, { pickup: { lat: 43.7301, lng: 7.42 }, dropoff: { lat: 43.74, lng: 7.43 } });
    if (created.body.state === 'dispatching') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const job = created!.body.id as string;
  await d.waitFor((f) => f.t === 'offer' && f.job === job, 5000);
  t.equal((await d.request({ t: 'accept', job })).t, 'ack');

  const ops = await Client.open(`${B.wsUrl}/v1/ops/ws`, await c.token('ops', 'snc-ops'));
  t.teardown(() => ops.close());
  t.equal((await ops.request({ t: 'sub' })).t, 'ack');
  const snap = await ops.waitFor((f) => f.t === 'jobs', 5000);
  const entries = snap.jobs as Frame[];
  t.same(entries.map((e) => e.job), [job], 'only the live job (earlier attempts ended unfulfilled)');
  t.match(entries[0], { state: 'accepted', rider: 'snc-r1', city: 'world', driver: { id: 'snc-d1' } });
  t.equal(snap.more, false);
});
