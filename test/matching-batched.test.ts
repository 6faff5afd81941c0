// Batched dispatch on the memory adapters with a hand-moved clock: the crossing case against greedy, declines back to the next batch, one solver per city.
import t from 'tap';
import type { PolicySelector } from '../src/matching/dispatch-policy.js';
import { leaseName } from '../src/matching/batch-loop.js';
import { DEG_PER_M, PICKUP, SETTINGS, world } from './helpers/dispatch-world.js';

const batched: PolicySelector = () => ({ policy: 'batched' });
const north = (m: number) => ({ lat: PICKUP.lat + m * DEG_PER_M, lng: PICKUP.lng });

/** Job A at the pickup, job B 1000 m north; d1 400 m north (A 400, B 600), d2 2000 m south (A 2000, B 3000). */
async function crossing(w: Awaited<ReturnType<typeof world>>) {
  w.driver('d1', 400);
  w.driver('d2', -2000);
  const a = await w.create('ra', PICKUP);
  const b = await w.create('rb', north(1000));
  return { a, b };
}

t.test('the crossing case: greedy gives A the nearer driver (total 3400 m); batched picks the lower total (2600 m)', async (t) => {
  const g = await world(t);
  const gj = await crossing(g);
  await g.settle();
  t.equal((await g.repo.get(gj.a.id))?.offer, 'd1', 'greedy: A takes d1');
  t.equal((await g.repo.get(gj.b.id))?.offer, 'd2', 'greedy: B is left with d2');

  const w = await world(t, { policyFor: batched });
  const { a, b } = await crossing(w);
  await w.settle();
  t.equal(w.offers('d1').length + w.offers('d2').length, 0, 'nothing before the batch window');
  await w.tick(SETTINGS.batchWindowMs);
  t.equal((await w.repo.get(a.id))?.offer, 'd2', 'batched: A gets d2');
  t.equal((await w.repo.get(b.id))?.offer, 'd1', 'batched: B gets d1');
  t.equal(w.offers('d1').length, 1);
  t.equal(w.offers('d2').length, 1);
  const eta = async (x: typeof w, id: string): Promise<number> => (await x.repo.get(id))!.rec.eta_s!;
  const batchedTotal = (await eta(w, a.id)) + (await eta(w, b.id));
  const greedyTotal = (await eta(g, gj.a.id)) + (await eta(g, gj.b.id));
  t.ok(Math.abs(batchedTotal / greedyTotal - 2600 / 3400) < 0.01, `total pickup ETA ${batchedTotal} s against greedy's ${greedyTotal} s (2600 m against 3400 m)`);
});

t.test('a decline returns the job to the next batch; the decliner is not offered it again', async (t) => {
  const w = await world(t, { policyFor: batched });
  w.driver('a', 500);
  w.driver('b', 900);
  const rec = await w.create();
  await w.tick(SETTINGS.batchWindowMs);
  t.equal(w.offers('a').length, 1, 'the best ETA first');
  await w.jobs.driverAction('a', 'decline', rec.id);
  await w.settle();
  t.equal(w.offers('b').length, 0, 'not before the next batch');
  await w.tick(SETTINGS.batchWindowMs);
  t.equal(w.offers('b').length, 1, 'the next batch offers it to b');
  t.equal(w.offers('a').length, 1);
  await w.tick(SETTINGS.offerTimeoutMs);
  t.same(w.revoked('b').map((f) => f.reason), ['expired'], 'an expiry too');
  await w.tick(SETTINGS.batchWindowMs);
  t.equal((await w.repo.get(rec.id))?.rec.state, 'unfulfilled', 'nobody left, window 0: unfulfilled at the next batch');
});

t.test('more jobs than drivers: every driver gets one offer, the rest wait for the next batch', async (t) => {
  const w = await world(t, { policyFor: batched, settings: { searchWindowMs: 60_000 } });
  w.driver('a', 300);
  w.driver('b', 600);
  const recs = await Promise.all(['r1', 'r2', 'r3'].map((r, i) => w.create(r, north(i * 100))));
  await w.tick(SETTINGS.batchWindowMs);
  t.equal(w.offers('a').length, 1);
  t.equal(w.offers('b').length, 1);
  const waiting = [];
  for (const r of recs) if (!(await w.repo.get(r.id))?.offer) waiting.push(r.id);
  t.equal(waiting.length, 1, 'one job waits');
  await w.jobs.driverAction('a', 'decline', (await w.repo.offerOf('a'))!);
  await w.tick(SETTINGS.batchWindowMs);
  t.equal((await w.repo.get(waiting[0]!))?.offer, 'a', 'a, free again, serves the waiting job at the next batch');
});

t.test('two nodes: one solver per city at a time; when it stops, the other takes over', async (t) => {
  const n1 = await world(t, { policyFor: batched, nodeId: 'n1' });
  const n2 = await world(t, { policyFor: batched, nodeId: 'n2', backend: n1.backend });
  for (const w of [n1, n2]) {
    w.driver('a', 300);
    w.driver('b', 600);
  }
  const j1 = await n1.create('r1');
  const j2 = await n2.create('r2', north(200));
  t.equal(n1.jobs.dispatcher.board.size, 2, 'n1 learned both jobs from the deliveries');
  t.equal(n2.jobs.dispatcher.board.size, 2, 'and so did n2');
  await n1.tick(SETTINGS.batchWindowMs);
  const holder = await n1.backend.lease.holder(leaseName('world'));
  t.ok(holder, 'someone holds the city lease');
  const solvers = [n1, n2].filter((w) => w.jobs.dispatcher.batches.holds('world'));
  t.equal(solvers.length, 1, 'exactly one node solves the city');
  // The two worlds share one bus: each sees every driver delivery, so count one world's.
  t.equal(n1.offers('a').length + n1.offers('b').length, 2, 'two offers in all (one per driver, one per job)');
  t.ok((await n1.repo.get(j1.id))?.offer && (await n1.repo.get(j2.id))?.offer, 'both jobs offered');
  const [solver, other] = solvers[0] === n1 ? [n1, n2] : [n2, n1];
  await solver.jobs.stop();
  const j3 = await other.create('r3', north(100));
  other.driver('c', 400);
  solver.driver('c', 400);
  await other.tick(SETTINGS.batchWindowMs);
  t.ok(other.jobs.dispatcher.batches.holds('world'), 'the other node took the lease');
  t.equal((await other.repo.get(j3.id))?.offer, 'c', 'and solved the next batch');
});
