// One contract suite for every NodeRegistry adapter (memory, Redis, Sentinel): announce, renew, expire, remove, query by city.
import { NodeDirectory } from '../../src/bus/node-directory.js';
import { nodesServing } from '../../src/bus/node-registry.js';
import type { NodeRegistry } from '../../src/bus/node-registry.js';
import type { TapTest } from './storage-contract.js';

/** `make(ttlMs)` opens registries on one fresh, empty key space: two calls with the same `space` share it (two nodes). */
export function nodeRegistryContract(t: TapTest, name: string, make: (ttlMs: number, space: string) => Promise<NodeRegistry>): void {
  let n = 0;
  const space = (): string => `s${process.pid}_${n++}`;

  t.test(`${name}: an announced node is listed by every registry on the key space, with its URL and cities`, async (t) => {
    const s = space();
    const a = await make(10_000, s);
    const b = await make(10_000, s);
    const now = Date.now();
    await a.announce({ nodeId: 'a', url: 'http://a:1', cities: ['porto', 'lisbon'], ts: now });
    await b.announce({ nodeId: 'b', url: 'http://b:1', cities: ['*'], ts: now });
    const seen = (await b.nodes(now)).sort((x, y) => x.nodeId.localeCompare(y.nodeId));
    t.same(seen, [
      { nodeId: 'a', url: 'http://a:1', cities: ['porto', 'lisbon'], ts: now },
      { nodeId: 'b', url: 'http://b:1', cities: ['*'], ts: now },
    ]);
    t.same(nodesServing(seen, 'lisbon').map((e) => e.nodeId).sort(), ['a', 'b'], 'a named city and every-city nodes');
    t.same(nodesServing(seen, 'madrid').map((e) => e.nodeId), ['b'], 'only the every-city node serves madrid');
    await a.close();
    await b.close();
  });

  t.test(`${name}: a renewed entry replaces the old one; an entry older than the TTL is gone`, async (t) => {
    const s = space();
    const r = await make(1000, s);
    const t0 = Date.now();
    await r.announce({ nodeId: 'a', url: 'http://a:1', cities: ['porto'], ts: t0 });
    await r.announce({ nodeId: 'a', url: 'http://a:2', cities: ['lisbon'], ts: t0 + 500 });
    t.same(await r.nodes(t0 + 600), [{ nodeId: 'a', url: 'http://a:2', cities: ['lisbon'], ts: t0 + 500 }], 'the newest write');
    await r.announce({ nodeId: 'b', url: 'http://b:1', cities: ['porto'], ts: t0 + 1400 });
    t.same((await r.nodes(t0 + 1600)).map((e) => e.nodeId), ['b'], 'a, silent past its TTL, is gone');
    t.same((await r.nodes(t0 + 1600)).map((e) => e.nodeId), ['b'], 'and stays gone');
    await r.close();
  });

  t.test(`${name}: remove deletes at once; removing an unknown node is a no-op`, async (t) => {
    const s = space();
    const r = await make(10_000, s);
    const now = Date.now();
    await r.announce({ nodeId: 'a', url: 'http://a:1', cities: ['porto'], ts: now });
    await r.remove('a');
    await r.remove('nobody');
    t.same(await r.nodes(now), []);
    await r.close();
  });

  t.test(`${name}: key spaces are separate`, async (t) => {
    const a = await make(10_000, space());
    const b = await make(10_000, space());
    const now = Date.now();
    await a.announce({ nodeId: 'a', url: 'http://a:1', cities: ['porto'], ts: now });
    t.same(await b.nodes(now), []);
    await a.close();
    await b.close();
  });

  t.test(`${name}: a directory redirects to the other nodes serving a city, in turn, never to itself`, async (t) => {
    const s = space();
    const errors: unknown[] = [];
    const dir = (id: string, cities: string[]): Promise<NodeDirectory> =>
      make(10_000, s).then((registry) => new NodeDirectory({ registry, self: () => ({ nodeId: id, url: `http://${id}:1`, cities }), heartbeatMs: 60_000, onError: (e) => errors.push(e) }));
    const a = await dir('a', ['porto']);
    const b = await dir('b', ['porto', 'lisbon']);
    const c = await dir('c', ['porto']);
    await a.start();
    await b.start();
    await c.start();
    await a.beat();
    t.equal(a.urlFor('lisbon'), 'http://b:1');
    t.same(new Set([a.urlFor('porto'), a.urlFor('porto')]), new Set(['http://b:1', 'http://c:1']), 'the others in turn');
    t.equal(a.urlFor('madrid'), undefined, 'nobody serves madrid');
    await b.stop();
    await a.beat();
    t.equal(a.urlFor('lisbon'), undefined, 'a stopped node is no longer named');
    await a.stop();
    await c.stop();
    t.same(errors, []);
  });
}
