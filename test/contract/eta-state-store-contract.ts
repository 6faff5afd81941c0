// Contract suite for the EtaStateStore port, run against the file, memory and Redis adapters.
import type { EtaStateStore } from '../../src/eta/eta-state-store.js';
import type { TapTest } from './storage-contract.js';

/** A document of about `kib` KiB, distinct per `tag`, with characters outside ASCII. */
function doc(tag: string, kib = 64): string {
  const body = `${tag}:é☃😀,`.repeat(Math.ceil((kib * 1024) / 16));
  return JSON.stringify({ tag, body });
}

/**
 * `make` returns a fresh, empty store. `reopen` (durable adapters) opens a new store over what `closed`
 * saved, as after a restart. Guarantees checked (eta/eta-state-store.ts): `load` returns the last
 * document saved for that city, byte for byte, or null when none was; cities are separate; a save is
 * all-or-nothing, even when saves of one city overlap (a load sees one whole document, the last
 * requested once all have resolved); durable adapters keep the last document across a restart.
 */
export function etaStateStoreContract(
  t: TapTest, name: string, make: () => Promise<EtaStateStore>,
  features: { reopen?: (closed: EtaStateStore) => Promise<EtaStateStore> },
): void {
  t.test(`${name}: nothing saved loads as null; a save loads back byte for byte`, async (t) => {
    const s = await make();
    t.equal(await s.load('porto'), null);
    const d = doc('one');
    await s.save('porto', d);
    t.equal(await s.load('porto'), d);
    await s.save('empty', '');
    t.equal(await s.load('empty'), '', 'an empty document is a document, not null');
  });

  t.test(`${name}: the last save wins; cities are separate`, async (t) => {
    const s = await make();
    await s.save('porto', doc('old'));
    await s.save('monaco', doc('monaco', 1));
    await s.save('porto', doc('new', 1));
    t.equal(await s.load('porto'), doc('new', 1));
    t.equal(await s.load('monaco'), doc('monaco', 1));
    t.equal(await s.load('nyc'), null);
  });

  t.test(`${name}: overlapping saves of one city never leave a mixed document`, async (t) => {
    const s = await make();
    const docs = Array.from({ length: 12 }, (_, i) => doc(`v${i}`, 256 - i * 16));
    const loads: Array<Promise<string | null>> = [];
    await Promise.all(docs.map(async (d, i) => {
      await s.save('porto', d);
      if (i % 3 === 0) loads.push(s.load('porto'));
    }));
    for (const got of await Promise.all(loads)) t.ok(got !== null && docs.includes(got), 'a load during the saves sees one whole document');
    t.equal(await s.load('porto'), docs[docs.length - 1], 'the last save requested is kept');
    await s.save('porto', docs[5]!);
    t.equal(await s.load('porto'), docs[5], 'the save after them wins');
  });

  const reopen = features.reopen;
  if (reopen) {
    t.test(`${name}: the last document of every city survives a restart`, async (t) => {
      const s = await make();
      await s.save('porto', doc('first'));
      await s.save('porto', doc('kept'));
      await s.save('monaco', doc('monaco'));
      const back = await reopen(s);
      t.equal(await back.load('porto'), doc('kept'));
      t.equal(await back.load('monaco'), doc('monaco'));
      t.equal(await back.load('nyc'), null);
    });
  }
}
