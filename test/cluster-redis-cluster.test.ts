// Cluster mode on a real 3-primary Redis Cluster: two taxiway nodes, a full trip in each of two cities whose keys sit in different slots.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { Redis } from 'ioredis';
import { cityOfJobId } from '../src/protocol/job-id.js';
import { RedisKeys, hashSlot } from '../src/storage/redis-keys.js';
import { Client, http, sleep } from './helpers/server.js';
import { newNode } from './helpers/cluster.js';
import type { Node } from './helpers/cluster.js';
import { SECRET } from './helpers/server.js';
import { signToken } from '../src/auth/tokens.js';
import { RedisClusterSetup } from './helpers/redis-cluster.js';

const sq = (a: number, b: number, c: number, d: number) => ({ type: 'Polygon', coordinates: [[[a, b], [c, b], [c, d], [a, d], [a, b]]] });
/** Two cities (lng/lat boxes), each with a pickup, a dropoff and a driver start inside it. */
const CITIES = {
  porto: { boundary: sq(-8.70, 41.10, -8.55, 41.20), at: { lat: 41.15, lng: -8.61 }, to: { lat: 41.16, lng: -8.60 } },
  lisbon: { boundary: sq(-9.25, 38.68, -9.05, 38.80), at: { lat: 38.72, lng: -9.14 }, to: { lat: 38.73, lng: -9.13 } },
} as const;

const skip = RedisClusterSetup.skip();
if (skip) t.test('taxiway on Redis Cluster end to end', { skip }, async () => {});
else {
  const setup = await RedisClusterSetup.start();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-rc-e2e-'));
  const citiesFile = path.join(dir, 'cities.json');
  fs.writeFileSync(citiesFile, JSON.stringify({ cities: Object.entries(CITIES).map(([name, c]) => ({ name, timezone: 'Europe/Lisbon', boundary: c.boundary })) }));
  const prefix = `twrc${process.pid}:`;
  const env = { ...setup.env, TAXIWAY_CITIES: citiesFile, TAXIWAY_FIX_BUDGET_RATE: '0' };
  const nodes: Node[] = [await newNode('', prefix, 'rc-a', env), await newNode('', prefix, 'rc-b', env)];
  t.teardown(async () => {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    for (const n of nodes) fs.rmSync(n.env.TAXIWAY_DATA_DIR!, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
    await setup.destroy();
  });
  await Promise.all(nodes.map((n) => n.start()));
  const [A, B] = nodes as [Node, Node];
  const token = (role: 'driver' | 'rider' | 'ops', sub: string): Promise<string> => signToken(SECRET, sub, role);

  t.test('a trip in each city, driver and rider on different nodes; each city\'s keys on its own slot', async (t) => {
    const k = new RedisKeys(prefix);
    t.not(hashSlot(k.held('porto')), hashSlot(k.held('lisbon')), 'the two cities hash to different slots');
    for (const [city, c] of Object.entries(CITIES)) {
      // Driver on one node, rider on the other (swapped for the second city).
      const [dn, rn] = city === 'porto' ? [A, B] : [B, A];
      const driverId = `rc-d-${city}`;
      const d = await Client.open(`${dn.wsUrl}/v1/driver/ws`, await token('driver', driverId));
      await d.waitFor((f) => f.t === 'hello');
      await d.request({ t: 'loc', lat: c.at.lat, lng: c.at.lng, ts: Date.now() });
      await d.request({ t: 'status', s: 'available' });
      // The rider's node sees the driver through the city's mirror channel before the job is created.
      const ops = await token('ops', 'rc-ops');
      const end = Date.now() + 10_000;
      for (;;) {
        const r = await http('GET', `${rn.url}/v1/drivers/nearby?lat=${c.at.lat}&lng=${c.at.lng}&radius_m=5000&limit=10`, ops);
        if ((r.body.drivers ?? []).some((x: { id: string }) => x.id === driverId)) break;
        if (Date.now() > end) throw new Error(`${rn.name} never saw ${driverId}`);
        await sleep(50);
      }
      const rt = await token('rider', `rc-r-${city}`);
      const created = await http('POST', `${rn.url}/v1/jobs`, rt, { pickup: c.at, dropoff: c.to });
      t.equal(created.status, 201, `${city}: created`);
      const job = created.body.id as string;
      t.equal(cityOfJobId(job), city, `${city}: the job id ${job} names its city`);
      t.equal(created.body.city, city);
      const r = await Client.open(`${rn.wsUrl}/v1/rider/ws`, rt);
      t.equal((await r.request({ t: 'sub', job })).t, 'ack');
      await d.waitFor((f) => f.t === 'offer' && f.job === job, 10_000);
      for (const [action, state] of [['accept', 'accepted'], ['arrived', 'arrived'], ['start', 'in_progress'], ['complete', 'completed']] as const) {
        t.equal((await d.request({ t: action, job })).t, 'ack', `${city}: ${action}`);
        await r.waitFor((f) => f.t === 'job' && f.job === job && f.state === state, 5000);
      }
      const got = await http('GET', `${dn.url}/v1/jobs/${job}`, rt);
      t.equal(got.body.state, 'completed', `${city}: completed, read on the other node`);
      // The job's hash is on the primary that owns its city's slot, and on no other.
      const owner = await setup.portOfSlot(hashSlot(k.job(job)));
      for (const s of setup.servers) {
        const plain = new Redis({ host: '127.0.0.1', port: s.port, lazyConnect: true });
        await plain.connect();
        const n = await plain.exists(k.job(job)).catch(() => 0); // MOVED on a node that does not own the slot
        t.equal(n, s.port === owner ? 1 : 0, `${city}: job hash ${s.port === owner ? 'on' : 'not on'} ${s.port}`);
        plain.disconnect();
      }
      d.close();
      r.close();
    }
    const listed = await http('GET', `${A.url}/v1/jobs?limit=10`, await token('ops', 'rc-ops'));
    t.same(listed.body.jobs.map((j: { city: string }) => j.city).sort(), ['lisbon', 'porto'], 'a list of every city merges both slots');
  });
}
