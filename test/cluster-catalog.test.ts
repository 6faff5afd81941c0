// Cluster: a city or zone created or changed through one node applies on the other within 1 s (Redis catalog store + bus), config frames included.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { Client, http, sleep } from './helpers/server.js';
import { redisSkip, stopTestRedis, testRedisUrl } from './helpers/redis.js';
import { startCluster } from './helpers/cluster.js';
import type { Node } from './helpers/cluster.js';

const sq = (a: number, b: number, c: number, d: number) => ({ type: 'Polygon', coordinates: [[[a, b], [c, b], [c, d], [a, d], [a, b]]] });
const nice = { timezone: 'Europe/Paris', boundary: sq(7.20, 43.66, 7.30, 43.74), driverApp: { fixIntervalMs: { available: 4000 } } };

/** Ms until `url` answers 200 on `node` (polled every 10 ms), or throws after `limitMs`. */
async function until(node: Node, p: string, token: string, ok: (body: any) => boolean, limitMs = 3000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs) {
    const r = await http('GET', `${node.url}${p}`, token);
    if (r.status === 200 && ok(r.body)) return Date.now() - t0;
    await sleep(10);
  }
  throw new Error(`${p} never matched on ${node.name}`);
}

const skip = await redisSkip();
if (skip) t.test('cluster catalog', { skip }, async () => {});
else {
  const url = (await testRedisUrl())!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-cluster-catalog-'));
  const citiesFile = path.join(dir, 'cities.json');
  fs.writeFileSync(citiesFile, JSON.stringify({ cities: [{ name: 'monaco', timezone: 'Europe/Monaco', boundary: sq(7.40, 43.72, 7.44, 43.76) }] }));
  t.teardown(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await stopTestRedis();
  });

  t.test('a city and a zone created on node A apply on node B within 1 s; a settings change reaches a driver on B', async (t) => {
    const c = await startCluster(url, 2, { TAXIWAY_CITIES: citiesFile, TAXIWAY_FIX_BUDGET_RATE: '0' });
    t.teardown(() => c.stop());
    const [A, B] = c.nodes as [Node, Node];
    const ops = await c.token('ops', 'ops1');
    // Both nodes started on an empty store: the file was seeded once.
    const list = await http('GET', `${B.url}/v1/admin/cities`, ops);
    t.same(list.body.cities.map((x: { city: { name: string } }) => x.city.name), ['monaco']);
    t.equal(list.body.version, 1, 'seeded once, not by each node');

    t.equal((await http('PUT', `${A.url}/v1/admin/cities/nice`, ops, nice)).status, 201);
    const cityMs = await until(B, '/v1/admin/cities/nice', ops, () => true);
    t.ok(cityMs < 1000, `city on B after ${cityMs} ms`);

    // B places its driver in the new city and serves it its config.
    const d = await Client.open(`${B.wsUrl}/v1/driver/ws`, await c.token('driver', 'cc-d1'));
    await d.waitFor((f) => f.t === 'hello');
    await d.request({ t: 'loc', lat: 43.70, lng: 7.25, ts: Date.now() });
    const cfg = await d.waitFor((f) => f.t === 'config' && f.city === 'nice');
    t.equal((cfg.fix_interval_ms as Record<string, number>).available, 4000);

    const mark = d.frames.length;
    const t0 = Date.now();
    t.equal((await http('PUT', `${A.url}/v1/admin/cities/nice`, ops, { ...nice, driverApp: { fixIntervalMs: { available: 3000 } } })).status, 200);
    const cfg2 = await d.waitFor((f) => f.t === 'config', 2000, mark);
    const cfgMs = Date.now() - t0;
    t.equal((cfg2.fix_interval_ms as Record<string, number>).available, 3000);
    t.ok(cfgMs < 1000, `config frame on B's driver ${cfgMs} ms after the PUT on A`);

    t.equal((await http('PUT', `${A.url}/v1/admin/zones/nce`, ops, { city: 'nice', kind: 'airport_queue', polygon: sq(7.20, 43.66, 7.22, 43.67) })).status, 201);
    const zoneMs = await until(B, '/v1/admin/zones/nce', ops, () => true);
    t.ok(zoneMs < 1000, `zone on B after ${zoneMs} ms`);

    // The reverse way, and a delete.
    t.equal((await http('DELETE', `${B.url}/v1/admin/zones/nce`, ops)).status, 200);
    const delMs = await until(A, '/v1/admin/zones', ops, (b) => b.zones.length === 0);
    t.ok(delMs < 1000, `zone deleted on A after ${delMs} ms`);
    d.close();
  });
}
