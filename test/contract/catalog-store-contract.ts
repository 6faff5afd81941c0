// CatalogStore contract: one version counter, compare-and-set writes with history, seed-once, durable and shared by every instance on one backing.
import type { Test } from 'tap';
import type { CatalogStore } from '../../src/storage/catalog-store.js';

export interface CatalogStoreContractOptions {
  /** Another instance on the same backing (another node, or the same data dir after a restart); the first is closed first when `restart`. */
  reopen: (closed: CatalogStore, restart: boolean) => Promise<CatalogStore>;
  /** History cap of the stores `open` gives with `smallHistory` (to test trimming); absent: not tested. */
  smallHistory?: number;
}

const city = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name, timezone: 'UTC', boundary: null, ...extra });

export function catalogStoreContract(t: Test, name: string, open: (smallHistory?: boolean) => Promise<CatalogStore>, o: CatalogStoreContractOptions): void {
  t.test(`${name}: an empty store is at version 0 with nothing in it`, async (t) => {
    const s = await open();
    t.equal(await s.version(), 0);
    t.same(await s.load(), { version: 0, entries: [] });
    t.same(await s.changesSince(0, 10), []);
    t.same(await s.history(10), []);
    await s.close();
  });

  t.test(`${name}: writes take consecutive versions; entries keep their creation version; history in order`, async (t) => {
    const s = await open();
    const a = await s.write('city', 'a', city('a'), 0, 1000);
    t.match(a, { version: 1, kind: 'city', key: 'a', created: 1, doc: city('a'), ts: 1000 });
    const z = await s.write('zone', 'z1', { id: 'z1', city: 'a' }, 1, 1001);
    t.match(z, { version: 2, kind: 'zone', key: 'z1', created: 2 });
    const a2 = await s.write('city', 'a', city('a', { products: ['taxi'] }), 2, 1002);
    t.match(a2, { version: 3, created: 1 }, 'a replace keeps the creation version');
    const snap = await s.load();
    t.equal(snap.version, 3);
    const byKey = new Map(snap.entries.map((e) => [`${e.kind}:${e.key}`, e]));
    t.same(byKey.get('city:a'), { kind: 'city', key: 'a', version: 3, created: 1, doc: city('a', { products: ['taxi'] }) });
    t.same(byKey.get('zone:z1')?.version, 2);
    t.same((await s.changesSince(0, 10))!.map((c) => c.version), [1, 2, 3]);
    t.same((await s.changesSince(1, 1))!.map((c) => c.version), [2], 'limit');
    t.same(await s.changesSince(3, 10), []);
    t.same((await s.history(2)).map((c) => c.version), [3, 2], 'history: newest first');
    await s.close();
  });

  t.test(`${name}: a write against a stale version is refused and changes nothing`, async (t) => {
    const s = await open();
    await s.write('city', 'a', city('a'), 0, 1);
    t.equal(await s.write('city', 'b', city('b'), 0, 2), null, 'expected 0, store at 1');
    t.equal(await s.write('city', 'b', city('b'), 5, 2), null, 'expected a future version');
    t.equal(await s.version(), 1);
    t.equal((await s.load()).entries.length, 1);
    t.equal((await s.history(10)).length, 1);
    await s.close();
  });

  t.test(`${name}: a delete is a versioned change with the entry's creation version; re-creating starts anew`, async (t) => {
    const s = await open();
    await s.write('city', 'a', city('a'), 0, 1);
    await s.write('city', 'b', city('b'), 1, 2);
    const del = await s.write('city', 'a', null, 2, 3);
    t.match(del, { version: 3, kind: 'city', key: 'a', created: 1, doc: null });
    t.same((await s.load()).entries.map((e) => e.key), ['b']);
    const again = await s.write('city', 'a', city('a'), 3, 4);
    t.match(again, { version: 4, created: 4 });
    await s.close();
  });

  t.test(`${name}: seed writes only into a never-written store`, async (t) => {
    const s = await open();
    t.equal(await s.seed([{ kind: 'city', key: 'a', doc: city('a') }, { kind: 'city', key: 'b', doc: city('b') }], 5), true);
    t.same((await s.load()).entries.map((e) => [e.key, e.version, e.created]).sort(), [['a', 1, 1], ['b', 2, 2]]);
    t.equal(await s.seed([{ kind: 'city', key: 'c', doc: city('c') }], 6), false, 'not empty any more');
    await s.write('city', 'a', null, 2, 7);
    await s.write('city', 'b', null, 3, 8);
    t.equal(await s.seed([{ kind: 'city', key: 'c', doc: city('c') }], 9), false, 'emptied by deletes is not never-written');
    t.equal(await s.version(), 4);
    await s.close();
  });

  t.test(`${name}: another instance on the same backing sees the same entries, versions and history`, async (t) => {
    const s = await open();
    await s.write('city', 'a', city('a'), 0, 1);
    await s.write('zone', 'z', { id: 'z', city: 'a', kind: 'info' }, 1, 2);
    const r = await o.reopen(s, true);
    t.equal(await r.version(), 2);
    t.same((await r.load()).entries.map((e) => e.key).sort(), ['a', 'z']);
    t.same((await r.changesSince(0, 10))!.map((c) => c.key), ['a', 'z']);
    t.match(await r.write('city', 'b', city('b'), 2, 3), { version: 3 }, 'continues the counter');
    await r.close();
  });

  t.test(`${name}: concurrent writers against one version: exactly one wins`, async (t) => {
    const s = await open();
    const r = await o.reopen(s, false);
    const results = await Promise.all([s.write('city', 'x', city('x'), 0, 1), r.write('city', 'y', city('y'), 0, 1), s.write('city', 'w', city('w'), 0, 1)]);
    t.equal(results.filter((c) => c !== null).length, 1);
    t.equal(await s.version(), 1);
    await r.close();
    await s.close();
  });

  if (o.smallHistory !== undefined) {
    const cap = o.smallHistory;
    t.test(`${name}: the history keeps the newest ${cap} changes; asking from before them is null`, async (t) => {
      const s = await open(true);
      for (let v = 0; v < cap + 3; v++) await s.write('city', `c${v % 2}`, city(`c${v % 2}`), v, v);
      t.equal((await s.history(1000)).length, cap);
      t.equal(await s.changesSince(0, 1000), null, 'trimmed past version 0');
      t.same((await s.changesSince(cap + 1, 10))!.map((c) => c.version), [cap + 2, cap + 3]);
      t.equal((await s.load()).entries.length, 2, 'entries stay');
      await s.close();
    });
  }
}
