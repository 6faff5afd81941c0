// Runs the storage contract against LmdbStorage in temp dirs, plus LMDB-specific checks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { LmdbStorage } from '../src/storage/lmdb/lmdb-storage.js';
import type { StoredFix } from '../src/storage/ports.js';
import { storageContract } from './contract/storage-contract.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-lmdb-'));
t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
let n = 0;

async function fresh(): Promise<{ dir: string; storage: LmdbStorage }> {
  const dir = path.join(base, `db${n++}`); // open() must create it
  return { dir, storage: await LmdbStorage.open(dir) };
}

storageContract(
  t,
  'LmdbStorage',
  async () => {
    const { dir, storage } = await fresh();
    return { storage, reopen: () => LmdbStorage.open(dir) };
  },
  { durable: true },
);

const T0 = 1_700_000_000_000;
const fix = (driver: string, ts: number): StoredFix => ({ driver, ts, lat: 1, lng: 2, hdg: NaN, spd: NaN, acc: NaN });

t.test('LmdbStorage specifics', async (t) => {
  t.test('track clamps junk limits to 1..10000', async (t) => {
    const { storage: s } = await fresh();
    t.teardown(() => s.close());
    s.appendFixes(Array.from({ length: 10_001 }, (_, i) => fix('d', T0 + i)));
    await s.flush();
    for (const limit of [0, -5, NaN, 0.5]) {
      const p = await s.track('d', T0, T0 + 1e6, limit);
      t.same([p.points.length, p.next], [1, T0 + 1], `limit ${limit}`);
    }
    const big = await s.track('d', T0, T0 + 1e6, 1e9);
    t.same([big.points.length, big.next], [10_000, T0 + 10_000]);
  });

  t.test('invalid fixes and oversized keys are dropped without throwing', async (t) => {
    const { storage: s } = await fresh();
    t.teardown(() => s.close());
    s.appendFixes([fix('', T0), fix('d', NaN), { ...fix('d', T0), lat: NaN }, fix('x'.repeat(3000), T0), fix('d', T0 + 1)]);
    await s.flush();
    t.same((await s.track('d', T0 - 10, T0 + 10, 10)).points.map((p) => p[0]), [T0 + 1]);
    t.equal(s.stats().dropped, 4);
  });

  t.test('appendFixes after close is dropped, not thrown; reads reject', async (t) => {
    const { storage: s } = await fresh();
    await s.close();
    t.doesNotThrow(() => s.appendFixes([fix('d', T0)]));
    await t.rejects(s.track('d', T0, T0 + 1, 1));
    await t.rejects(s.appendJobEvent({ job: 'j', seq: 1, ts: T0, state: 'dispatching', by: 'system', snapshot: {} as never }));
    t.equal(s.stats().dropped, 1);
  });

  t.test('appendJobEvent rejects a bad seq', async (t) => {
    const { storage: s } = await fresh();
    t.teardown(() => s.close());
    const snapshot = { id: 'j' } as never;
    await t.rejects(s.appendJobEvent({ job: 'j', seq: 0, ts: T0, state: 'dispatching', by: 'system', snapshot }), TypeError);
    await t.rejects(s.appendJobEvent({ job: 'j', seq: 1.5, ts: T0, state: 'dispatching', by: 'system', snapshot }), TypeError);
  });
});
