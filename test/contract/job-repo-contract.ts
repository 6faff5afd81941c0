// One contract suite for every JobRepo adapter (memory, Redis): CAS, claims, atomicity, expiry of claims.
import crypto from 'node:crypto';
import type { FinishedRetention, JobDoc, JobRepo } from '../../src/matching/job-repo.js';
import type { TapTest } from './storage-contract.js';
import type { JobState } from '../../src/protocol/messages.js';

let n = 0;
function doc(state: JobState = 'dispatching', rider = 'r1', city = 'world'): JobDoc {
  // Ids name their city (`<city>.<random>`, protocol/job-id.ts): on Redis Cluster that is the job's slot.
  const id = `${city}.contract${process.pid}_${Date.now()}_${n++}`;
  const now = Date.now();
  return {
    rec: { id, state, rider, driver: null, pickup: { lat: 1, lng: 2 }, dropoff: null, product: 'taxi', city, created_ts: now, updated_ts: now, times: { [state]: now } },
    seq: 1, attempts: 0, offer: null, offerExpires: 0, tried: [], version: 1,
  };
}
const drv = (): string => `d_${process.pid}_${n++}`;

/**
 * `reopen` (durable adapters): a new repository over what `closed` stored, as after a process restart;
 * without it the adapter keeps nothing across restarts and that test is skipped.
 */
/** Commit `d` (stored at `version`) as final. */
async function finish(repo: JobRepo, d: JobDoc, version = 1, state: JobState = 'completed'): Promise<void> {
  const r = await repo.commit({ ...structuredClone(d), rec: { ...d.rec, state } }, version, []);
  if (r !== 'ok') throw new Error(`finish ${d.rec.id}: ${r}`);
}

/** `make(retention)` opens a fresh, empty repository (its own key space) keeping final jobs as told. */
/**
 * `legacyIds: false` (Redis Cluster): ids made before 2026-12-05 (`j_<uuid>`, no city) are not served, since
 * their untagged keys sit outside the city's slot; a Cluster deployment never held any.
 */
export function jobRepoContract(t: TapTest, name: string, make: (retention?: Partial<FinishedRetention>) => Promise<JobRepo>, features: { reopen?: (closed: JobRepo) => Promise<JobRepo>; legacyIds?: boolean } = {}): void {
  const reopen = features.reopen;
  if (features.legacyIds !== false) {
    t.test(`${name}: a job id made before 2026-12-05 (j_<uuid>, no city) still works`, async (t) => {
      const repo = await make();
      const d = doc('dispatching', 'legacy_' + n++);
      d.rec.id = `j_${crypto.randomUUID()}`;
      t.equal(await repo.create(d), 'ok');
      t.same(await repo.get(d.rec.id), { ...d, version: 1 });
      const driver = drv();
      const o: JobDoc = { ...structuredClone(d), offer: driver, offerExpires: Date.now() + 60_000 };
      t.equal(await repo.commit(o, 1, [{ op: 'claimOffer', driver }]), 'ok');
      t.equal(await repo.offerOf(driver), d.rec.id);
      await finish(repo, o, 2);
      t.equal((await repo.get(d.rec.id))!.rec.state, 'completed');
      t.ok((await repo.list({ city: d.rec.city, limit: 500 })).jobs.some((j) => j.id === d.rec.id), 'listed with its city');
      await repo.close();
    });
  }
  if (reopen) {
    t.test(`${name}: live jobs, offers and active claims survive a restart`, async (t) => {
      const repo = await make();
      const offered = doc(), active = doc(), done = doc();
      const a = drv(), b = drv();
      for (const d of [offered, active, done]) await repo.create(d);
      const o: JobDoc = { ...structuredClone(offered), offer: a, offerExpires: Date.now() + 60_000 };
      t.equal(await repo.commit(o, 1, [{ op: 'claimOffer', driver: a }]), 'ok');
      const x: JobDoc = { ...structuredClone(active), offer: b, offerExpires: Date.now() + 60_000 };
      t.equal(await repo.commit(x, 1, [{ op: 'claimOffer', driver: b }]), 'ok');
      const y = structuredClone(x);
      y.offer = null;
      y.rec = { ...y.rec, state: 'accepted', driver: b };
      t.equal(await repo.commit(y, 2, [{ op: 'promote', driver: b }]), 'ok');
      t.equal(await repo.commit({ ...structuredClone(done), rec: { ...done.rec, state: 'completed' } }, 1, []), 'ok');
      await repo.close();
      const back = await reopen(repo);
      t.same(await back.get(offered.rec.id), { ...o, version: 2 }, 'the offered job, as committed');
      t.same(await back.get(active.rec.id), { ...y, version: 3 });
      t.equal((await back.get(done.rec.id))?.rec.state, 'completed', 'finished jobs stay readable');
      t.equal(await back.offerOf(a), offered.rec.id, 'the offer claim');
      t.equal(await back.activeOf(b), active.rec.id, 'the active claim');
      t.equal(await back.offerOf(b), undefined, 'a promoted offer is gone');
      t.equal(await back.commit(structuredClone(o), 1, []), 'conflict', 'versions continue');
      t.equal(await back.commit({ ...structuredClone(doc()), rec: { ...o.rec, id: offered.rec.id } }, 2, [{ op: 'claimOffer', driver: a }]), 'claim_failed', 'claims still enforced');
      await back.close();
    });
  }

  t.test(`${name}: create and get round-trip; duplicate ids refused`, async (t) => {
    const repo = await make();
    const d = doc();
    await repo.create(d);
    const got = await repo.get(d.rec.id);
    t.same(got, { ...d, version: 1 });
    await t.rejects(repo.create(d));
    t.equal(await repo.get('j_missing_' + n++), undefined);
    await repo.close();
  });

  t.test(`${name}: compare-and-set on version`, async (t) => {
    const repo = await make();
    const d = doc();
    await repo.create(d);
    const a = { ...structuredClone(d), attempts: 1 };
    t.equal(await repo.commit(a, 1, []), 'ok');
    t.equal((await repo.get(d.rec.id))!.version, 2);
    t.equal(await repo.commit({ ...a, attempts: 9 }, 1, []), 'conflict', 'stale version');
    t.equal((await repo.get(d.rec.id))!.attempts, 1);
    t.equal(await repo.commit(doc(), 1, []), 'conflict', 'unknown job');
    await repo.close();
  });

  t.test(`${name}: one offer and one active job per driver`, async (t) => {
    const repo = await make();
    const d1 = doc();
    const d2 = doc();
    await repo.create(d1);
    await repo.create(d2);
    const driver = drv();
    const o1 = { ...structuredClone(d1), offer: driver, offerExpires: Date.now() + 10_000 };
    t.equal(await repo.commit(o1, 1, [{ op: 'claimOffer', driver }]), 'ok');
    t.equal(await repo.offerOf(driver), d1.rec.id);
    const o2 = { ...structuredClone(d2), offer: driver, offerExpires: Date.now() + 10_000 };
    t.equal(await repo.commit(o2, 1, [{ op: 'claimOffer', driver }]), 'claim_failed');
    t.equal((await repo.get(d2.rec.id))!.version, 1, 'a failed claim changes nothing');
    t.equal(await repo.commit(o2, 1, [{ op: 'promote', driver }]), 'claim_failed', 'cannot promote an offer of another job');
    t.equal(await repo.commit({ ...o1, state: 'x' } as JobDoc, 2, [{ op: 'promote', driver }]), 'ok');
    t.equal(await repo.offerOf(driver), undefined);
    t.equal(await repo.activeOf(driver), d1.rec.id);
    t.equal(await repo.commit(o2, 1, [{ op: 'claimOffer', driver }]), 'claim_failed', 'busy drivers get no offers');
    t.equal(await repo.commit(structuredClone(d2), 1, [{ op: 'releaseActive', driver }]), 'ok');
    t.equal(await repo.activeOf(driver), d1.rec.id, 'release of another job is a no-op');
    t.equal(await repo.commit(structuredClone(o1), 3, [{ op: 'releaseActive', driver }]), 'ok');
    t.equal(await repo.activeOf(driver), undefined);
    await repo.close();
  });

  t.test(`${name}: concurrent claims on one driver: exactly one wins`, async (t) => {
    const repo = await make();
    const driver = drv();
    const docs = Array.from({ length: 20 }, () => doc());
    for (const d of docs) await repo.create(d);
    const results = await Promise.all(docs.map((d) => repo.commit({ ...structuredClone(d), offer: driver, offerExpires: Date.now() + 5000 }, 1, [{ op: 'claimOffer', driver }])));
    t.equal(results.filter((r) => r === 'ok').length, 1);
    t.equal(results.filter((r) => r === 'claim_failed').length, 19);
    await repo.close();
  });

  t.test(`${name}: concurrent commits on one job: exactly one per version`, async (t) => {
    const repo = await make();
    const d = doc();
    await repo.create(d);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => repo.commit({ ...structuredClone(d), attempts: i }, 1, [])));
    t.equal(results.filter((r) => r === 'ok').length, 1);
    await repo.close();
  });

  t.test(`${name}: an offer claim lapses by itself after expiry plus grace`, async (t) => {
    const repo = await make();
    const d = doc();
    await repo.create(d);
    const driver = drv();
    // Expired long ago: the claim lives at least 1 s (adapter minimum), then lapses.
    const o = { ...structuredClone(d), offer: driver, offerExpires: Date.now() - 60_000 };
    t.equal(await repo.commit(o, 1, [{ op: 'claimOffer', driver }]), 'ok');
    await new Promise((r) => setTimeout(r, 1200));
    t.equal(await repo.offerOf(driver), undefined);
    await repo.close();
  });

  t.test(`${name}: open jobs of a rider: counted, capped atomically on create, released when final`, async (t) => {
    const repo = await make();
    const rider = 'cap_' + n++;
    t.equal(await repo.openJobsOf(rider, 'world'), 0);
    const docs = Array.from({ length: 10 }, () => doc('dispatching', rider));
    const results = await Promise.all(docs.map((d) => repo.create(d, 3)));
    t.equal(results.filter((r) => r === 'ok').length, 3, 'concurrent creates: exactly the cap succeed');
    t.equal(results.filter((r) => r === 'rider_cap').length, 7);
    t.equal(await repo.openJobsOf(rider, 'world'), 3);
    const refused = docs[results.indexOf('rider_cap')]!;
    t.equal(await repo.get(refused.rec.id), undefined, 'a refused create stores nothing');
    t.equal(await repo.create(doc('dispatching', 'other_' + n++), 3), 'ok', 'other riders are not affected');
    const first = docs[results.indexOf('ok')]!;
    await finish(repo, first);
    t.equal(await repo.openJobsOf(rider, 'world'), 2, 'a final job is no longer open');
    t.equal(await repo.create(doc('dispatching', rider), 3), 'ok', 'room again');
    t.equal(await repo.create(doc('dispatching', rider)), 'ok', 'no cap without maxOpenOfRider');
    t.equal(await repo.openJobsOf(rider, 'world'), 4);
    await repo.close();
  });

  t.test(`${name}: jobs of two cities: the rider cap counts per city; lookups by driver follow its newest offer`, async (t) => {
    const repo = await make();
    const rider = 'two_' + n++;
    const a = doc('dispatching', rider, 'cityA' + n++), b = doc('dispatching', rider, 'cityB' + n++);
    t.equal(await repo.create(a, 1), 'ok');
    t.equal(await repo.create(b, 1), 'ok', 'a cap of 1 holds per city');
    t.equal(await repo.create(doc('dispatching', rider, a.rec.city), 1), 'rider_cap', 'and is reached in the first city');
    t.equal(await repo.openJobsOf(rider, a.rec.city), 1);
    const d = drv();
    const oa: JobDoc = { ...structuredClone(a), offer: d, offerExpires: Date.now() + 60_000 };
    t.equal(await repo.commit(oa, 1, [{ op: 'claimOffer', driver: d }]), 'ok');
    t.equal(await repo.offerOf(d), a.rec.id, 'the offer in the first city');
    t.equal(await repo.commit({ ...structuredClone(oa), offer: null }, 2, [{ op: 'releaseOffer', driver: d }]), 'ok');
    t.equal(await repo.offerOf(d), undefined, 'declined');
    const ob: JobDoc = { ...structuredClone(b), offer: d, offerExpires: Date.now() + 60_000 };
    t.equal(await repo.commit(ob, 1, [{ op: 'claimOffer', driver: d }]), 'ok');
    t.equal(await repo.offerOf(d), b.rec.id, 'the newest offer, in the other city');
    const accepted: JobDoc = { ...structuredClone(ob), offer: null, rec: { ...ob.rec, state: 'accepted', driver: d } };
    t.equal(await repo.commit(accepted, 2, [{ op: 'promote', driver: d }]), 'ok');
    t.equal(await repo.activeOf(d), b.rec.id);
    t.equal(await repo.offerOf(d), undefined);
    await repo.close();
  });

  t.test(`${name}: a list of every city pages over all of them, each job once, each city newest first`, async (t) => {
    const repo = await make();
    const cities = ['pa' + n++, 'pb' + n++, 'pc' + n++];
    const made: JobDoc[] = [];
    for (let i = 0; i < 11; i++) {
      const d = doc('dispatching', 'pager', cities[i % 3]);
      await repo.create(d);
      made.push(d);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const p = await repo.list({ limit: 2, cursor });
      seen.push(...p.jobs.map((j) => j.id));
      if (p.next === null) break;
      cursor = p.next;
    }
    t.same([...seen].sort(), made.map((d) => d.rec.id).sort(), 'every job once, across pages of 2');
    for (const c of cities) {
      const ours = made.filter((d) => d.rec.city === c).map((d) => d.rec.id);
      t.same(seen.filter((id) => ours.includes(id)), [...ours].reverse(), `${c}: newest first`);
    }
    await repo.close();
  });

  t.test(`${name}: list pages newest first, filtered by state and city`, async (t) => {
    const repo = await make();
    const city = 'c' + n++;
    const made: JobDoc[] = [];
    for (let i = 0; i < 7; i++) {
      const d = doc('dispatching', 'lister', city);
      await repo.create(d);
      made.push(d);
    }
    await repo.create(doc('dispatching', 'lister', 'elsewhere_' + n++));
    await finish(repo, made[1]!, 1, 'cancelled');
    await finish(repo, made[4]!);
    const ids = (p: { jobs: Array<{ id: string }> }): string[] => p.jobs.map((j) => j.id);
    const newestFirst = made.map((d) => d.rec.id).reverse();
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const p = await repo.list({ city, limit: 3, cursor });
      t.ok(p.jobs.length <= 3);
      seen.push(...ids(p));
      if (!p.next) break;
      cursor = p.next;
    }
    t.same(seen, newestFirst, 'every job of the city once, newest first, across pages');
    t.same(ids(await repo.list({ city, state: 'live', limit: 50 })), newestFirst.filter((id) => id !== made[1]!.rec.id && id !== made[4]!.rec.id), 'live: not final');
    t.same(ids(await repo.list({ city, state: 'completed', limit: 50 })), [made[4]!.rec.id]);
    t.same(ids(await repo.list({ city, state: 'cancelled', limit: 50 })), [made[1]!.rec.id]);
    const all = await repo.list({ limit: 500 });
    t.ok(all.jobs.length >= 8, 'without a city: every city');
    t.same((await repo.list({ city, limit: 1 })).jobs[0], { ...made[6]!.rec }, 'the records as stored');
    t.same(await repo.list({ city: 'nowhere_' + n++, limit: 5 }), { jobs: [], next: null });
    await repo.close();
  });

  t.test(`${name}: final jobs are kept within the retention count, oldest-finished dropped first; live ones always`, async (t) => {
    const repo = await make({ maxKept: 2 });
    const city = 'k' + n++;
    const live = doc('dispatching', 'keeper', city);
    await repo.create(live);
    const done: JobDoc[] = [];
    for (let i = 0; i < 5; i++) {
      const d = doc('dispatching', 'keeper', city);
      await repo.create(d);
      await finish(repo, d);
      done.push(d);
    }
    for (const d of done.slice(0, 3)) t.equal(await repo.get(d.rec.id), undefined, 'dropped: the three finished first');
    for (const d of done.slice(3)) t.equal((await repo.get(d.rec.id))?.rec.state, 'completed', 'kept: the last two');
    t.equal((await repo.get(live.rec.id))?.rec.state, 'dispatching', 'the live job stays');
    const listed = (await repo.list({ city, limit: 50 })).jobs.map((j) => j.id);
    t.same(listed, [done[4]!.rec.id, done[3]!.rec.id, live.rec.id], 'list holds only what is kept');
    await repo.close();
  });

  t.test(`${name}: final jobs are dropped after the retention time`, async (t) => {
    const repo = await make({ ttlMs: 1000 });
    const a = doc();
    await repo.create(a);
    await finish(repo, a);
    t.equal((await repo.get(a.rec.id))?.rec.state, 'completed');
    await new Promise((r) => setTimeout(r, 1100));
    // Memory sweeps on a timer; Redis expires the hash. Another final commit also sweeps.
    const b = doc();
    await repo.create(b);
    await finish(repo, b);
    await new Promise((r) => setTimeout(r, 100));
    t.equal(await repo.get(a.rec.id), undefined);
    await repo.close();
  });

  t.test(`${name}: healthy`, async (t) => {
    const repo = await make();
    t.equal(await repo.healthy(), true);
    await repo.close();
  });
}
