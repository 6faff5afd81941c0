// Storage port contract: the guarantees every adapter (memory, LMDB, Cassandra) must keep.
import { randomUUID } from 'node:crypto';
import tap from 'tap';
import type { JobEvent, JobRecord, Storage, StoredFix } from '../../src/storage/ports.js';
import type { JobState } from '../../src/protocol/messages.js';

/** The subtest type tap hands to `t.test` callbacks (tap exports `Test` without its plugin asserts). */
export type TapTest = Parameters<Parameters<typeof tap.test>[0]>[0];

export interface StorageUnderTest {
  storage: Storage;
  /** Closes nothing; opens a fresh adapter on the same backing store (after `storage.close()`). */
  reopen?: () => Promise<Storage>;
}

export interface ContractFeatures {
  /** Data survives close + reopen. */
  durable: boolean;
}

/** A realistic epoch base so key encodings see 13-digit ms values, ms. */
const T0 = 1_700_000_000_000;

function fix(driver: string, ts: number, lat = 52.5, lng = 13.4, hdg = 90, spd = 10, acc = 5): StoredFix {
  return { driver, ts, lat, lng, hdg, spd, acc };
}

function job(id: string, state: JobState, updated: number, extra: Partial<JobRecord> = {}): JobRecord {
  return {
    id,
    state,
    rider: 'r1',
    driver: state === 'dispatching' ? null : 'd7',
    pickup: { lat: 52.52, lng: 13.405 },
    dropoff: null,
    product: 'std',
    city: 'berlin',
    created_ts: T0,
    updated_ts: updated,
    times: {},
    ...extra,
  };
}

function event(jobId: string, seq: number, state: JobState): JobEvent {
  const ts = T0 + seq * 1000;
  return { job: jobId, seq, ts, state, by: 'dispatch', snapshot: job(jobId, state, ts, { eta_s: 60 + seq }) };
}

export function storageContract(
  t: TapTest,
  name: string,
  make: () => Promise<StorageUnderTest>,
  features: ContractFeatures,
): void {
  /** Fresh adapter per subtest, closed at its end; ids are unique so a shared cluster works too. */
  async function setup(tt: TapTest): Promise<{ s: Storage; id: (x: string) => string; sut: StorageUnderTest }> {
    const sut = await make();
    tt.teardown(() => sut.storage.close());
    const run = randomUUID().slice(0, 8);
    return { s: sut.storage, id: (x) => `${run}-${x}`, sut };
  }

  t.test(`${name}: storage contract`, async (t) => {
    t.test('track returns fixes ordered by ts, even when appended out of order', async (t) => {
      const { s, id } = await setup(t);
      const d = id('d1');
      s.appendFixes([fix(d, T0 + 3000), fix(d, T0 + 1000)]);
      s.appendFixes([fix(d, T0 + 2000)]);
      s.appendFixes([fix(d, T0 + 500), fix(d, T0 + 4000)]);
      await s.flush();
      const page = await s.track(d, T0, T0 + 10_000, 100);
      t.same(page.points.map((p) => p[0]), [500, 1000, 2000, 3000, 4000].map((x) => T0 + x));
      t.equal(page.next, undefined);
      t.strictSame(page.points[0], [T0 + 500, 52.5, 13.4, 90, 10, 5]);
    });

    t.test('from is inclusive, to is exclusive', async (t) => {
      const { s, id } = await setup(t);
      const d = id('d1');
      s.appendFixes([0, 1, 2, 3, 4].map((i) => fix(d, T0 + i * 1000)));
      await s.flush();
      const ts = async (from: number, to: number) => (await s.track(d, from, to, 100)).points.map((p) => p[0] - T0);
      t.same(await ts(T0 + 1000, T0 + 3000), [1000, 2000]);
      t.same(await ts(T0 + 999, T0 + 3001), [1000, 2000, 3000]);
      t.same(await ts(T0 + 2000, T0 + 2000), [], 'empty range');
      t.same(await ts(T0 + 3000, T0 + 1000), [], 'inverted range');
      t.same(await ts(T0 + 5000, T0 + 9000), [], 'after the track');
    });

    t.test('limit and next page through the whole track without gaps or duplicates', async (t) => {
      const { s, id } = await setup(t);
      const d = id('d1');
      const all = Array.from({ length: 25 }, (_, i) => T0 + i * 997);
      s.appendFixes(all.map((ts) => fix(d, ts)).reverse());
      await s.flush();
      for (const [limit, pages] of [[7, 4], [5, 5], [25, 1], [1, 25], [100, 1]] as const) {
        const seen: number[] = [];
        let from = T0;
        let n = 0;
        for (;;) {
          const page = await s.track(d, from, T0 + 1_000_000, limit);
          n++;
          t.ok(page.points.length <= limit, `limit ${limit} respected`);
          seen.push(...page.points.map((p) => p[0]));
          if (page.next === undefined) break;
          t.equal(page.points.length, limit, 'a page with a next is full');
          t.ok(page.next > page.points.at(-1)![0], 'next is past the page');
          from = page.next;
          if (n > 100) break;
        }
        t.same(seen, all, `limit ${limit}: every fix once, in order`);
        t.equal(n, pages, `limit ${limit}: ${pages} pages, no empty trailing page`);
      }
    });

    t.test('same driver+ts written twice stores one fix, first write wins', async (t) => {
      const { s, id } = await setup(t);
      const d = id('d1');
      s.appendFixes([fix(d, T0, 1, 1), fix(d, T0, 2, 2)]);
      s.appendFixes([fix(d, T0 + 1000, 3, 3)]);
      s.appendFixes([fix(d, T0 + 1000, 4, 4)]);
      await s.flush();
      s.appendFixes([fix(d, T0, 5, 5)]);
      await s.flush();
      const page = await s.track(d, T0, T0 + 10_000, 100);
      t.same(page.points.map((p) => [p[0] - T0, p[1], p[2]]), [[0, 1, 1], [1000, 3, 3]]);
    });

    t.test('a resent old ts never changes the stored fix: after many fixes, slices, days and flushes', async (t) => {
      const { s, id } = await setup(t);
      const d = id('d1');
      const A = fix(d, T0 + 1234, 41.1, -8.6, 270, 12.5, 4);
      const A2 = fix(d, T0 + 5678, 41.2, -8.7, NaN, NaN, NaN); // no optional values: a resend must not add any
      s.appendFixes([A, A2]);
      // 40 more fixes, 1 s apart (far more than ingest's last 8), over several slices and hand-overs.
      for (let i = 0; i < 40; i++) s.appendFixes([fix(d, T0 + 10_000 + i * 1000)]);
      await s.flush();
      // Then a day and two days later (other slices, other day partitions).
      s.appendFixes([fix(d, T0 + 86_400_000), fix(d, T0 + 2 * 86_400_000)]);
      await s.flush();
      s.appendFixes([fix(d, A.ts, 10, 20, NaN, NaN, NaN), fix(d, A2.ts, 11, 21, 1, 2, 3)]);
      await s.flush();
      s.appendFixes([fix(d, A.ts, 12, 22, 5, 6, 7)]); // again, in its own hand-over
      await s.flush();
      const page = await s.track(d, T0, T0 + 3 * 86_400_000, 1000);
      t.equal(page.points.length, 2 + 40 + 2, 'every ts once');
      t.strictSame(page.points[0], [A.ts, 41.1, -8.6, 270, 12.5, 4], 'A exactly, all fields');
      t.strictSame(page.points[1], [A2.ts, 41.2, -8.7, null, null, null], 'A2 exactly, still without optional values');
      t.strictSame((await s.track(d, A.ts, A.ts + 1, 10)).points, [[A.ts, 41.1, -8.6, 270, 12.5, 4]], 'a one-ts range too');
    });

    t.test('a fix days old that the store keeps is never changed by a resend', async (t) => {
      const { s, id } = await setup(t);
      const d = id('d1');
      const old = T0 - 3 * 86_400_000 + 42_000;
      s.appendFixes([fix(d, old, 1, 2, 3, 4, 5)]);
      await s.flush();
      for (let day = 0; day < 3; day++) s.appendFixes(Array.from({ length: 12 }, (_, i) => fix(d, T0 - day * 86_400_000 + i * 7000)));
      await s.flush();
      s.appendFixes([fix(d, old, 9, 9, NaN, NaN, NaN)]);
      await s.flush();
      t.strictSame((await s.track(d, old - 1, old + 1, 10)).points, [[old, 1, 2, 3, 4, 5]]);
    });

    t.test('a different fix at the same ts later in the same batch is discarded', async (t) => {
      const { s, id } = await setup(t);
      const d = id('d1');
      s.appendFixes([fix(d, T0, 1, 2, NaN, 4, NaN), fix(d, T0 + 1000), fix(d, T0, 7, 8, 1, 1, 1), fix(d, T0 + 2000)]);
      await s.flush();
      const page = await s.track(d, T0, T0 + 10_000, 100);
      t.strictSame(page.points[0], [T0, 1, 2, null, 4, null]);
      t.same(page.points.map((p) => p[0] - T0), [0, 1000, 2000], 'once');
    });

    t.test('drivers are isolated, including ids that prefix each other', async (t) => {
      const { s, id } = await setup(t);
      const ids = [id('d'), id('d1'), id('d10'), id('d1x'), id('d2')];
      ids.forEach((d, i) => s.appendFixes([fix(d, T0 + i, i), fix(d, T0 + 100 + i, i)]));
      await s.flush();
      for (const [i, d] of ids.entries()) {
        const page = await s.track(d, T0 - 1e6, T0 + 1e6, 100);
        t.same(page.points.map((p) => [p[0], p[1]]), [[T0 + i, i], [T0 + 100 + i, i]], d);
      }
      t.same((await s.track(id('nobody'), T0 - 1e6, T0 + 1e6, 100)).points, [], 'unknown driver');
    });

    t.test('absent optional values come back null; zero is a value, not absent', async (t) => {
      const { s, id } = await setup(t);
      const d = id('d1');
      s.appendFixes([
        fix(d, T0, 1.25, -2.5, NaN, NaN, NaN),
        fix(d, T0 + 1, 1, 2, 0, 0, 0),
        fix(d, T0 + 2, -33.8688, 151.2093, 359.9, NaN, 12.5),
      ]);
      await s.flush();
      const page = await s.track(d, T0, T0 + 10, 10);
      t.strictSame(page.points, [
        [T0, 1.25, -2.5, null, null, null],
        [T0 + 1, 1, 2, 0, 0, 0],
        [T0 + 2, -33.8688, 151.2093, 359.9, null, 12.5],
      ]);
    });

    t.test('appendFixes copies its input and tolerates an empty batch', async (t) => {
      const { s, id } = await setup(t);
      const d = id('d1');
      const batch = [fix(d, T0, 1, 1)];
      s.appendFixes(batch);
      batch[0]!.lat = 99;
      batch.push(fix(d, T0 + 1));
      s.appendFixes([]);
      await s.flush();
      t.same((await s.track(d, T0, T0 + 10, 10)).points.map((p) => p[1]), [1]);
    });

    t.test('flush makes accepted fixes visible (and resolves with nothing pending)', async (t) => {
      const { s, id } = await setup(t);
      await s.flush();
      const d = id('d1');
      for (let i = 0; i < 500; i++) s.appendFixes([fix(d, T0 + i * 1000)]);
      await s.flush();
      t.equal((await s.track(d, T0, T0 + 1e9, 1000)).points.length, 500);
    });

    t.test('job events come back in seq order; getJob is the highest seq snapshot', async (t) => {
      const { s, id } = await setup(t);
      const j = id('j1');
      await s.appendJobEvent(event(j, 1, 'dispatching'));
      await s.appendJobEvent(event(j, 3, 'arrived'));
      await s.appendJobEvent(event(j, 2, 'accepted'));
      const evs = await s.jobEvents(j);
      t.same(evs.map((e) => [e.seq, e.state]), [[1, 'dispatching'], [2, 'accepted'], [3, 'arrived']]);
      t.strictSame(evs[1], event(j, 2, 'accepted'), 'event round-trips');
      t.strictSame(await s.getJob(j), event(j, 3, 'arrived').snapshot, 'late seq 2 does not replace seq 3');
    });

    t.test('getJob follows the latest event; unknown job is undefined', async (t) => {
      const { s, id } = await setup(t);
      const j = id('j1');
      await s.appendJobEvent(event(j, 1, 'dispatching'));
      t.strictSame(await s.getJob(j), event(j, 1, 'dispatching').snapshot);
      const ev2 = event(j, 2, 'accepted');
      ev2.snapshot.dropoff = { lat: 52.4, lng: 13.3 };
      ev2.snapshot.times = { dispatching: T0, accepted: T0 + 2000 };
      await s.appendJobEvent(ev2);
      t.strictSame(await s.getJob(j), ev2.snapshot);
      t.equal(await s.getJob(id('nope')), undefined);
      t.same(await s.jobEvents(id('nope')), []);
    });

    t.test('the same (job, seq) twice is stored once', async (t) => {
      const { s, id } = await setup(t);
      const j = id('j1');
      await s.appendJobEvent(event(j, 1, 'dispatching'));
      await s.appendJobEvent(event(j, 1, 'dispatching'));
      await Promise.all([s.appendJobEvent(event(j, 2, 'accepted')), s.appendJobEvent(event(j, 2, 'accepted'))]);
      t.same((await s.jobEvents(j)).map((e) => e.seq), [1, 2]);
      t.strictSame(await s.getJob(j), event(j, 2, 'accepted').snapshot);
    });

    t.test('jobs are isolated, including ids that prefix each other', async (t) => {
      const { s, id } = await setup(t);
      const [a, b] = [id('j1'), id('j10')];
      await s.appendJobEvent(event(b, 1, 'dispatching'));
      await s.appendJobEvent(event(a, 1, 'dispatching'));
      await s.appendJobEvent(event(b, 2, 'accepted'));
      t.same((await s.jobEvents(a)).map((e) => e.job), [a]);
      t.same((await s.jobEvents(b)).map((e) => e.seq), [1, 2]);
      t.equal((await s.getJob(a))?.state, 'dispatching');
    });

    t.test('stored events do not alias the caller objects', async (t) => {
      const { s, id } = await setup(t);
      const j = id('j1');
      const ev = event(j, 1, 'dispatching');
      const p = s.appendJobEvent(ev);
      ev.snapshot.state = 'cancelled';
      await p;
      const got = await s.getJob(j);
      t.equal(got?.state, 'dispatching');
      got!.state = 'unfulfilled';
      t.equal((await s.getJob(j))?.state, 'dispatching');
    });

    t.test('recent jobs by rider and by driver: newest created first, latest snapshot, limit and before', async (t) => {
      const { s, id } = await setup(t);
      const [rider, other, d1, d2] = [id('r1'), id('r2'), id('d1'), id('d2')];
      const [ja, jb, jc, jx] = [id('ja'), id('jb'), id('jc'), id('jx')];
      const ev = (job: string, seq: number, state: JobState, created: number, r: string, d: string | null): JobEvent => ({
        job, seq, ts: created + seq, state, by: 'dispatch',
        snapshot: { ...event(job, seq, state).snapshot, rider: r, driver: d, created_ts: created },
      });
      // ja: reassigned from d1 to d2; jb and jc share a created_ts (ties: job id descending).
      await s.appendJobEvent(ev(ja, 1, 'dispatching', T0, rider, null));
      await s.appendJobEvent(ev(ja, 2, 'accepted', T0, rider, d1));
      await s.appendJobEvent(ev(ja, 3, 'dispatching', T0, rider, null));
      await s.appendJobEvent(ev(ja, 4, 'accepted', T0, rider, d2));
      await s.appendJobEvent(ev(jb, 1, 'dispatching', T0 + 5000, rider, null));
      await s.appendJobEvent(ev(jc, 1, 'dispatching', T0 + 5000, rider, null));
      await s.appendJobEvent(ev(jc, 2, 'accepted', T0 + 5000, rider, d1));
      await s.appendJobEvent(ev(jx, 1, 'dispatching', T0 + 9000, other, null));
      const ids = async (party: 'rider' | 'driver', who: string, limit: number, before?: number) =>
        (await s.recentJobs(party, who, limit, before)).map((j) => j.id);
      t.same(await ids('rider', rider, 10), [jc, jb, ja], 'rider: newest first, ties by job id descending');
      t.same(await ids('rider', rider, 2), [jc, jb], 'limit');
      t.same(await ids('rider', rider, 10, T0 + 5000), [ja], 'before is exclusive');
      t.same(await ids('rider', other, 10), [jx]);
      t.same(await ids('driver', d1, 10), [jc, ja], 'a driver sees jobs it was ever assigned');
      t.same(await ids('driver', d2, 10), [ja]);
      t.same(await ids('driver', id('nobody'), 10), []);
      const [a] = await s.recentJobs('driver', d2, 1);
      t.equal(a?.state, 'accepted', 'the latest snapshot');
      t.equal(a?.driver, d2);
    });

    t.test('healthy while open; close is idempotent', async (t) => {
      const { s } = await setup(t);
      t.equal(await s.healthy(), true);
      await s.close();
      await s.close();
      t.equal(await s.healthy(), false);
    });

    if (features.durable) {
      t.test('fixes and jobs survive close and reopen', async (t) => {
        const { s, id, sut } = await setup(t);
        t.ok(sut.reopen, 'a durable adapter provides reopen');
        const d = id('d1');
        const j = id('j1');
        s.appendFixes([fix(d, T0 + 1000, 1, 2, NaN, 3, NaN), fix(d, T0, 5, 6)]);
        await s.appendJobEvent(event(j, 1, 'dispatching'));
        await s.appendJobEvent(event(j, 2, 'accepted'));
        await s.close();
        const s2 = await sut.reopen!();
        t.teardown(() => s2.close());
        t.strictSame((await s2.track(d, T0, T0 + 2000, 10)).points, [
          [T0, 5, 6, 90, 10, 5],
          [T0 + 1000, 1, 2, null, 3, null],
        ]);
        t.strictSame(await s2.getJob(j), event(j, 2, 'accepted').snapshot);
        t.same((await s2.jobEvents(j)).map((e) => e.seq), [1, 2]);
      });

      t.test('first write wins across close and reopen', async (t) => {
        const { s, id, sut } = await setup(t);
        const d = id('d1');
        s.appendFixes([fix(d, T0, 1, 2, 3, 4, 5), ...Array.from({ length: 20 }, (_, i) => fix(d, T0 + 1000 + i * 1000))]);
        await s.close();
        const s2 = await sut.reopen!();
        t.teardown(() => s2.close());
        s2.appendFixes([fix(d, T0, 6, 7, NaN, NaN, NaN)]);
        await s2.flush();
        const page = await s2.track(d, T0, T0 + 60_000, 100);
        t.strictSame(page.points[0], [T0, 1, 2, 3, 4, 5]);
        t.equal(page.points.length, 21);
      });
    }
  });
}
