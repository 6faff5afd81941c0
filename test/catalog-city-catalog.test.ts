// CityCatalog: seeding, checked writes, catch-up of another node's changes (from the history, or by reloading and diffing when it was trimmed).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { CityCatalog } from '../src/catalog/city-catalog.js';
import type { CatalogEvent } from '../src/catalog/city-catalog.js';
import { createLogger } from '../src/observability/logger.js';
import { LmdbCatalogStore } from '../src/storage/lmdb/lmdb-catalog-store.js';
import type { CatalogStore } from '../src/storage/catalog-store.js';
import type { CityDef } from '../src/config/cities.js';
import type { ZoneDef } from '../src/catalog/zones.js';

const sq = (a: number, b: number, c: number, d: number) => ({ type: 'Polygon' as const, coordinates: [[[a, b], [c, b], [c, d], [a, d], [a, b]]] });
const monaco: CityDef = { name: 'monaco', timezone: 'Europe/Monaco', boundary: sq(7.40, 43.72, 7.44, 43.76) };
const nice: CityDef = { name: 'nice', timezone: 'Europe/Paris', boundary: sq(7.20, 43.66, 7.30, 43.74) };
const zone: ZoneDef = { id: 'z1', city: 'nice', kind: 'info', polygon: sq(7.21, 43.67, 7.22, 43.68) };
const logger = createLogger('silent');

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-city-catalog-'));
t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));

t.test('two catalogs on one store: writes checked, seen by the other in order, also after the history was lost', async (t) => {
  const store = LmdbCatalogStore.open(path.join(root, 'a'));
  t.teardown(() => store.close());
  const a = await CityCatalog.open({ store, logger, pollMs: 0 }, [monaco]);
  t.same(a.cities().map((c) => c.name), ['monaco']);
  t.equal(a.version, 1);
  // A second node: the seed is not applied again.
  let trimmed = false;
  const view: CatalogStore = Object.create(store, { changesSince: { value: (v: number, n: number) => (trimmed ? Promise.resolve(null) : store.changesSince(v, n)) } });
  const b = await CityCatalog.open({ store: view, logger, pollMs: 0 }, [nice]);
  t.same(b.cities().map((c) => c.name), ['monaco'], 'the store was not empty: no seed');
  const heard: Array<[string, string, boolean]> = [];
  b.addChangeListener((e: CatalogEvent) => heard.push([e.kind, e.key, e.after !== undefined]));

  await t.rejects(a.putZone(zone), /city: no city nice/);
  await a.putCity(nice);
  await a.putZone(zone);
  await t.rejects(a.putCity({ ...nice, boundary: sq(7.25, 43.66, 7.30, 43.74) }), /zone z1 would fall outside/);
  await t.rejects(a.putCity({ name: 'w1', timezone: 'UTC', boundary: null }).then(() => a.putCity({ name: 'w2', timezone: 'UTC', boundary: null })), /only one city may have a null boundary; w1/);
  await t.rejects(a.deleteCity('nice'), /has 1 zone/);
  await t.rejects(a.deleteCity('nowhere'), /no city nowhere/);
  await b.catchUp();
  t.same(heard, [['city', 'nice', true], ['zone', 'z1', true], ['city', 'w1', true]]);
  t.equal(b.version, a.version);
  t.same(b.zones('nice'), [zone]);

  // The history no longer reaches back: b reloads and applies the difference.
  trimmed = true;
  heard.length = 0;
  await a.deleteZone('z1');
  await a.deleteCity('w1');
  await a.putCity({ ...monaco, products: ['taxi', 'xl'] });
  await b.catchUp();
  t.same(heard.sort(), [['city', 'monaco', true], ['city', 'w1', false], ['zone', 'z1', false]]);
  t.same(b.city('monaco')?.products, ['taxi', 'xl']);
  t.same(b.cities().map((c) => c.name), ['monaco', 'nice'], 'creation order kept');
  t.equal(b.version, a.version);
});

t.test('a write against a version another writer moved is retried on the newer catalog', async (t) => {
  const store = LmdbCatalogStore.open(path.join(root, 'b'));
  t.teardown(() => store.close());
  const a = await CityCatalog.open({ store, logger, pollMs: 0 }, [monaco]);
  const b = await CityCatalog.open({ store, logger, pollMs: 0 }, []);
  await a.putCity(nice); // b has not seen it
  const c = await b.putZone(zone); // checked against nice after catching up
  t.equal(c.version, 3);
  t.ok(b.city('nice'));
});
