// A driver step that already committed is acknowledged when it comes again (a retry after a lost answer, or the Redis
// client resending a commit after a failover), and a closed socket's driver is not marked offline once it came back.
import t from 'tap';
import { DriverStatus } from '../src/fleet/driver-status.js';
import { decodeFrame } from '../src/protocol/codec.js';
import type { ClaimOp, CommitResult, JobDoc } from '../src/matching/job-repo.js';
import { PICKUP, world } from './helpers/dispatch-world.js';

/**
 * The failover case of 2026-12-05's chaos analysis: ioredis sends a command again after a reconnect when its reply
 * was lost; a compare-and-set the old primary had applied (and replicated) then meets its own write: 'conflict'.
 * This makes the repository's next commit apply and answer 'conflict', as that resend does.
 */
function resendNextCommit(repo: { commit(doc: JobDoc, v: number, c: readonly ClaimOp[]): Promise<CommitResult> }): void {
  const real = repo.commit.bind(repo);
  let armed = true;
  repo.commit = async (doc, v, c) => {
    const r = await real(doc, v, c);
    if (!armed || r !== 'ok') return r;
    armed = false;
    return 'conflict';
  };
}

t.test('an accept whose commit was resent after it applied is acknowledged, not refused', async (t) => {
  const w = await world(t);
  w.driver('a', 500);
  w.driver('b', 900);
  const rec = await w.create();
  t.equal(w.offers('a').length, 1);
  resendNextCommit(w.repo);
  const frame = await w.jobs.driverAction('a', 'accept', rec.id);
  t.ok(frame, 'answered with the job frame (before its ack), not `conflict`');
  t.equal(decodeFrame(frame!).state, 'accepted');
  t.equal((await w.repo.get(rec.id))?.rec.driver, 'a');
  t.equal(w.fleet.statusOf('a'), DriverStatus.busy, 'the driver is busy, as after a first-time accept');
  t.equal(await w.repo.activeOf('a'), rec.id);
});

t.test('an accept retried after its answer was lost is acknowledged; another driver is still refused', async (t) => {
  const w = await world(t);
  w.driver('a', 500);
  w.driver('b', 900);
  const rec = await w.create();
  await w.jobs.driverAction('a', 'accept', rec.id);
  const again = await w.jobs.driverAction('a', 'accept', rec.id);
  t.equal(decodeFrame(again!).state, 'accepted', 'the same accept again: acknowledged with the job frame');
  t.equal((await w.repo.get(rec.id))?.seq, 2, 'no second state change was recorded');
  await t.rejects(w.jobs.driverAction('b', 'accept', rec.id), { code: 'conflict' }, 'a driver it is not assigned to gets conflict');
  await t.rejects(w.jobs.driverAction('b', 'arrived', rec.id), { code: 'not_found' });
});

t.test('arrived, start and complete again by the assigned driver are acknowledged; complete again frees the driver', async (t) => {
  const w = await world(t);
  w.driver('a', 500);
  const rec = await w.create();
  await w.jobs.driverAction('a', 'accept', rec.id);
  for (const [step, state] of [['arrived', 'arrived'], ['start', 'in_progress']] as const) {
    await w.jobs.driverAction('a', step, rec.id);
    t.equal(decodeFrame((await w.jobs.driverAction('a', step, rec.id))!).state, state, `${step} again: acknowledged`);
  }
  resendNextCommit(w.repo);
  const frame = await w.jobs.driverAction('a', 'complete', rec.id);
  t.equal(decodeFrame(frame!).state, 'completed', 'a complete whose commit was resent after it applied is acknowledged');
  t.equal(w.fleet.statusOf('a'), DriverStatus.available, 'and the driver is available again (it was left busy)');
  t.equal(await w.repo.activeOf('a'), undefined);
  await t.rejects(w.jobs.driverAction('a', 'arrived', rec.id), { code: 'conflict' }, 'a step backwards is still refused');
});

t.test('a closed socket does not make its driver offline when a newer fix came meanwhile (the driver moved nodes)', async (t) => {
  const w = await world(t);
  w.driver('a', 500);
  const real = w.repo.activeOf.bind(w.repo);
  let release = (): void => {};
  const held = new Promise<void>((r) => (release = r));
  w.repo.activeOf = async (d) => {
    await held; // Redis slow (a stall, a failover) while the close is handled
    return real(d);
  };
  const closing = w.jobs.driverDisconnected('a');
  await w.settle();
  // The driver reconnected to another node, which sent its newer fix and status here (the fleet mirror).
  w.fleet.applyRemote('a', 'world', PICKUP.lat, PICKUP.lng, w.clock.now() + 1000, NaN, NaN, DriverStatus.available);
  release();
  await closing;
  t.equal(w.fleet.statusOf('a'), DriverStatus.available, 'left as the other node set it');

  w.driver('b', 600);
  const closingB = w.jobs.driverDisconnected('b', () => false);
  await closingB;
  t.equal(w.fleet.statusOf('b'), DriverStatus.offline, 'without a newer fix the driver goes offline, as before');
  w.driver('c', 700);
  await w.jobs.driverDisconnected('c', () => true);
  t.equal(w.fleet.statusOf('c'), DriverStatus.available, 'nor when it has a new socket on this node');
});
