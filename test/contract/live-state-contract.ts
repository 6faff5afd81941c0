// Live-state port contract: the guarantees every LiveStateStore adapter (LMDB, memory) must keep.
import type { LiveStateStore } from '../../src/storage/live-state.js';
import type { TapTest } from './storage-contract.js';

export interface LiveStateUnderTest {
  store: LiveStateStore;
  /** What the store's error listener heard. */
  errors: unknown[];
  /** A fresh store on the same backing data (called after `store.close()`); durable adapters only. */
  reopen?: () => Promise<LiveStateStore>;
}

export interface LiveStateFeatures {
  /** Entries survive close + reopen. */
  durable: boolean;
}

const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function liveStateContract(t: TapTest, name: string, make: () => Promise<LiveStateUnderTest>, features: LiveStateFeatures): void {
  async function setup(tt: TapTest): Promise<LiveStateUnderTest> {
    const sut = await make();
    tt.teardown(() => sut.store.close());
    return sut;
  }

  t.test(`${name}: live-state contract`, async (t) => {
    t.test('put, overwrite and remove; entries after flushed()', async (t) => {
      const { store, errors } = await setup(t);
      const tab = store.table<{ v: number }>('jobs');
      tab.put('a', { v: 1 });
      tab.put('b', { v: 2 });
      tab.put('a', { v: 3 }); // last write wins
      tab.remove('b');
      tab.remove('never-there'); // nothing to do, nothing reported
      await store.flushed();
      t.same(tab.entries(), [['a', { v: 3 }]]);
      t.same(errors, []);
    });

    t.test('tables are separate; the same name gives the same entries', async (t) => {
      const { store } = await setup(t);
      store.table<string>('offers').put('d1', 'j1');
      store.table<string>('active').put('d1', 'j2');
      await store.flushed();
      t.same(store.table<string>('offers').entries(), [['d1', 'j1']]);
      t.same(store.table<string>('active').entries(), [['d1', 'j2']]);
      t.same(store.table<string>('empty').entries(), []);
    });

    t.test('entries come in ascending key order (UTF-8 bytes), separators included', async (t) => {
      const { store } = await setup(t);
      const tab = store.table<number>('timers');
      const keys = ['offer\u0000j2', 'dispatch-check\u0000j1', 'offer\u0000j10', 'offer\u0000j1', 'b', 'a\u00e9', 'a\u{1f695}', 'aZ', 'a'];
      keys.forEach((k, i) => tab.put(k, i));
      await store.flushed();
      const want = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      t.same(tab.entries().map(([k]) => k), want);
    });

    t.test('put copies the value: later changes to the object do not reach the table', async (t) => {
      const { store } = await setup(t);
      const tab = store.table<{ rec: { state: string }; times: number[] }>('jobs');
      const doc = { rec: { state: 'requested' }, times: [1] };
      tab.put('j', doc);
      doc.rec.state = 'accepted';
      doc.times.push(2);
      await store.flushed();
      t.same(tab.entries(), [['j', { rec: { state: 'requested' }, times: [1] }]]);
    });

    t.test('the many writes of one turn are all there after flushed()', async (t) => {
      const { store } = await setup(t);
      const tab = store.table<{ fireAt: number }>('timers');
      for (let i = 0; i < 500; i++) tab.put(`k${String(i).padStart(4, '0')}`, { fireAt: i });
      for (let i = 0; i < 500; i += 2) tab.remove(`k${String(i).padStart(4, '0')}`);
      await store.flushed();
      const got = tab.entries();
      t.equal(got.length, 250);
      t.same(got[0], ['k0001', { fireAt: 1 }]);
      t.same(got[249], ['k0499', { fireAt: 499 }]);
    });

    t.test('writes after close are reported and dropped, never thrown; close is idempotent', async (t) => {
      const sut = await make();
      const tab = sut.store.table<{ v: number }>('x');
      tab.put('a', { v: 1 });
      await sut.store.close();
      t.doesNotThrow(() => tab.put('b', { v: 2 }));
      t.doesNotThrow(() => tab.remove('a'));
      await tick(50);
      t.equal(sut.errors.length, 2, 'each dropped write reported once');
      t.match(String(sut.errors[0]), /closed/);
      await t.resolves(sut.store.close());
      if (sut.reopen) {
        const again = await sut.reopen();
        t.same(again.table('x').entries(), [['a', { v: 1 }]], 'what was written before close is there');
        await again.close();
      }
    });

    t.test('reopen: entries survive close, including writes queued just before it', { skip: features.durable ? false : 'not durable' }, async (t) => {
      const sut = await make();
      const tab = sut.store.table<{ job: string; until: number }>('offers');
      tab.put('d1', { job: 'j1', until: 1_700_000_000_000 });
      tab.put('d2', { job: 'j2', until: 1_700_000_001_000 });
      await sut.store.flushed();
      tab.remove('d1');
      tab.put('d3', { job: 'j3', until: 1_700_000_002_000 }); // not awaited: close() commits it
      await sut.store.close();
      const again = await sut.reopen!();
      t.teardown(() => again.close());
      t.same(again.table('offers').entries(), [
        ['d2', { job: 'j2', until: 1_700_000_001_000 }],
        ['d3', { job: 'j3', until: 1_700_000_002_000 }],
      ]);
    });
  });
}
