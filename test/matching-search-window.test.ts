// Search window on the memory adapters with a hand-moved clock: waiting jobs woken by driver events, the growing radius, the window's end, cancels, another node taking over.
import t from 'tap';
import { DriverStatus } from '../src/fleet/driver-status.js';
import { SEARCH_TIMER } from '../src/matching/dispatcher.js';
import { nextSearchStepMs, searchRadiusM } from '../src/matching/search-window.js';
import { SETTINGS, world } from './helpers/dispatch-world.js';

const WINDOW = { searchWindowMs: 60_000, maxRadiusM: 8000 };

t.test('radius steps and search timer steps (pure)', async (t) => {
  const s = { ...SETTINGS, ...WINDOW };
  t.same([0, 14_999, 15_000, 30_000, 45_000, 59_999].map((e) => searchRadiusM(s, e)), [5000, 5000, 6000, 7000, 8000, 8000]);
  t.same([0, 15_000, 44_000, 45_000, 59_000].map((e) => nextSearchStepMs(s, e)), [15_000, 15_000, 1000, 15_000, 1000]);
  const flat = { ...s, maxRadiusM: 1000 };
  t.equal(searchRadiusM(flat, 50_000), 5000, 'no growth when maxRadiusM is not larger');
  t.equal(nextSearchStepMs(flat, 10_000), 50_000, 'then only the window end');
});

t.test('a job with nobody in reach waits; a driver coming online 5 s later gets the offer at once (no timer needed)', async (t) => {
  const w = await world(t, { settings: WINDOW });
  const rec = await w.create();
  t.equal(rec.state, 'dispatching', 'not unfulfilled: it waits');
  t.equal(w.jobs.dispatcher.board.size, 1, 'on the board');
  await w.tick(5000);
  w.driver('late', 800);
  await w.settle();
  t.equal(w.offers('late').length, 1, 'woken by the driver event, offered');
  t.equal((await w.repo.get(rec.id))?.offer, 'late');
  const m = await w.jobs.dispatcher['d'].metrics.offerLatency.get();
  const sum = m.values.find((v) => v.metricName === 'taxiway_dispatch_offer_latency_seconds_sum');
  t.equal(sum?.value, 5, 'offer latency counted from the job’s creation: 5 s');
});

t.test('a driver out of reach, busy, or serving another product does not wake it; one coming into range does', async (t) => {
  const w = await world(t, { settings: { searchWindowMs: 60_000 }, products: ['taxi', 'xl'] });
  const rec = await w.create();
  w.driver('far', 6000);
  w.driver('busy', 100);
  w.fleet.setStatus('busy', DriverStatus.busy);
  w.fleet.setDriverProducts('xl-only', ['xl']);
  w.driver('xl-only', 200);
  await w.settle();
  for (const d of ['far', 'busy', 'xl-only']) t.equal(w.offers(d).length, 0, `${d}: no offer`);
  await w.tick(1000);
  w.driver('far', 4000); // drives into range
  await w.settle();
  t.equal(w.offers('far').length, 1, 'in range now: offered');
  t.equal((await w.repo.get(rec.id))?.offer, 'far');
});

t.test('the radius grows over the window: a driver at 6.9 km is reached at the third step by the search timer', async (t) => {
  const w = await world(t, { settings: WINDOW });
  w.driver('d7', 6900);
  const rec = await w.create();
  t.equal(w.offers('d7').length, 0, 'beyond 5 km at first');
  await w.tick(15_000);
  w.driver('d7', 6900); // keep its fix fresh; 6 km now: still out
  await w.settle();
  t.equal(w.offers('d7').length, 0, '6 km at the second step');
  await w.tick(15_000);
  t.equal(w.offers('d7').length, 1, '7 km reach at the third step: the search timer found it');
  t.equal((await w.repo.get(rec.id))?.offer, 'd7');
});

t.test('the window ends: unfulfilled exactly then', async (t) => {
  const w = await world(t, { settings: { searchWindowMs: 30_000 } });
  const rec = await w.create();
  await w.tick(29_999);
  t.equal((await w.repo.get(rec.id))?.rec.state, 'dispatching');
  await w.tick(1);
  const doc = await w.repo.get(rec.id);
  t.equal(doc?.rec.state, 'unfulfilled');
  t.equal(doc?.rec.times.unfulfilled, rec.created_ts + 30_000);
  t.equal(w.jobs.dispatcher.board.size, 0, 'off the board');
});

t.test('a decline during the window: the job waits again instead of ending', async (t) => {
  const w = await world(t, { settings: { searchWindowMs: 30_000 } });
  w.driver('a', 500);
  const rec = await w.create();
  await w.jobs.driverAction('a', 'decline', rec.id);
  await w.settle();
  t.equal((await w.repo.get(rec.id))?.rec.state, 'dispatching', 'still searching');
  w.driver('b', 900);
  await w.settle();
  t.equal(w.offers('b').length, 1, 'the next driver to appear gets it');
  t.equal(w.offers('a').length, 1, 'the decliner is not offered it again');
});

t.test('a rider cancel ends the search at once; its search timer goes too', async (t) => {
  const w = await world(t, { settings: WINDOW });
  const rec = await w.create();
  const pending = w.clock.pending;
  await w.jobs.riderCancel('r1', rec.id);
  await w.settle();
  t.equal((await w.repo.get(rec.id))?.rec.state, 'cancelled');
  t.ok(w.clock.pending < pending, 'the search timer was cancelled');
  w.driver('late', 300);
  await w.tick(60_000);
  t.equal(w.offers('late').length, 0, 'nobody is offered a cancelled job');
});

t.test('durable: the node that started the search dies; another node’s timer ends or serves the job', async (t) => {
  const a = await world(t, { settings: { searchWindowMs: 20_000 }, nodeId: 'a' });
  const rec = await a.create();
  const rec2 = await a.create('r2');
  // Node b shares the repository, timers and bus; a is gone (b's handlers replace a's on the shared timers).
  const b = await world(t, { settings: { searchWindowMs: 20_000 }, backend: a.backend, nodeId: 'b' });
  t.ok(b.jobs.dispatcher.board.size === 0, 'b started after the creations: it did not hear them');
  b.driver('db', 100);
  await b.settle();
  t.equal(b.offers('db').length, 0, 'no wake-up from a job b does not know of');
  await b.tick(20_000);
  const states = [(await b.repo.get(rec.id))!, (await b.repo.get(rec2.id))!].map((d) => [d.rec.state, d.offer]);
  t.same(states.filter(([s]) => s === 'dispatching').length, 1, 'the search timer fired on b: one job got b’s driver...');
  t.same(states.filter(([s]) => s === 'unfulfilled').length, 1, '...the other ended unfulfilled at the window’s end');
  t.ok(SEARCH_TIMER);
});
