// The chaos suite's double-assignment count: only what the server confirmed, judged against the failover guarantee.
import t from 'tap';
import { BotClaims, doubleAllowed, overlappingJobs } from './chaos/chaos-claims.js';
import type { AcceptedBy, Double } from './chaos/chaos-claims.js';

const T = 1_800_000_000_000;
const bot = (id: string, shared: AcceptedBy = new Map(), doubles: Double[] = []) => ({ c: new BotClaims(id, shared, doubles), doubles, shared });

t.test('an accept in flight past its offer expiry, then another offer: no double (the bots of 2026-12-05 01:06 counted one)', async (t) => {
  const { c, doubles } = bot('b1');
  c.offered('J', T + 3000, T);
  // The bot's accept of J goes unanswered through a failover; J's expiry timer wins; the server offers K.
  c.offered('K', T + 9000, T + 6000);
  t.same(doubles, [], 'J was never the bot\'s, and its offer had expired');
  c.offerEnded('J'); // the accept's answer: conflict
  c.jobFrame('K', 'accepted', T + 6200);
  t.same(doubles, []);
});

t.test('an offer while another is open and unexpired, or while the server gives the bot a job: a double', async (t) => {
  const a = bot('b1');
  a.c.offered('J', T + 3000, T);
  a.c.offered('K', T + 4000, T + 1000);
  t.equal(a.doubles.length, 1);
  t.match(a.doubles[0], { at: T + 1000, first: T, what: /b1 offered K while holding J/ });
  const b = bot('b2');
  b.c.offered('J', T + 3000, T);
  b.c.offerEnded('J'); // answered
  b.c.jobFrame('J', 'accepted', T + 100);
  b.c.offered('K', T + 5000, T + 2000);
  t.match(b.doubles, [{ what: /b2 offered K while the server gives it J/, first: T + 100, at: T + 2000 }]);
  const c = bot('b3');
  c.c.jobFrame('J', 'accepted', T);
  c.c.jobFrame('J', 'completed', T + 500); // the complete's own frame comes before its ack
  c.c.offered('K', T + 4000, T + 600);
  c.c.offered('L', T + 9000, T + 5000); // K expired unanswered
  t.same(c.doubles, [], 'after its job ended, and after an offer expired, offers are fine');
  const d = bot('b4');
  d.c.offered('J', T + 3000, T);
  d.c.offerEnded('J'); // revoked (rider cancel)
  d.c.offered('K', T + 4000, T + 500);
  t.same(d.doubles, [], 'a revoked offer is no longer held');
});

t.test('a job two bots were each told is theirs; two jobs at once for one bot; a refusal ends a job', async (t) => {
  const shared: AcceptedBy = new Map();
  const doubles: Double[] = [];
  const d1 = new BotClaims('b1', shared, doubles);
  const d2 = new BotClaims('b2', shared, doubles);
  d1.jobFrame('J', 'accepted', T);
  d1.mine('J', T + 10); // its ack too: the same claim
  t.same(doubles, []);
  d1.refused('J', 'not_found'); // after a failover the server says J is not b1's
  t.equal(d1.active, null);
  d2.jobFrame('J', 'accepted', T + 20_000);
  t.match(doubles, [{ what: 'J accepted by b1 and b2', first: T, at: T + 20_000 }]);
  d2.jobFrame('K', 'accepted', T + 21_000);
  t.match(doubles[1], { what: 'b2 given K while the server still gave it J', first: T + 20_000 });
  d2.refused('K', 'conflict');
  t.equal(d2.active?.job, 'K', 'a conflict does not end a job');
});

t.test('a double is within the failover guarantee only as a lost write: first claim on the old primary, writes unreplicated', async (t) => {
  const f = { at: T, promoted: T + 6000, unreplicatedBefore: 3 };
  t.ok(doubleAllowed({ what: '', first: T - 2000, at: T + 40_000 }, f), 'first claim in the 5 s before the kill, second after: allowed, however late');
  t.ok(doubleAllowed({ what: '', first: T + 100, at: T + 9000 }, f), 'first answered between the kill and the promotion');
  t.notOk(doubleAllowed({ what: '', first: T - 6000, at: T + 9000 }, f), 'first claim older than 5 s: it was replicated');
  t.notOk(doubleAllowed({ what: '', first: T + 7000, at: T + 9000 }, f), 'both on the new primary: a bug, not the guarantee');
  t.notOk(doubleAllowed({ what: '', first: T - 2000, at: T - 1000 }, f), 'both before the kill');
  t.notOk(doubleAllowed({ what: '', first: T - 2000, at: T + 9000 }, { ...f, unreplicatedBefore: 0 }), 'every write was replicated');
  t.notOk(doubleAllowed({ what: '', first: T, at: T }, null), 'no failover in the run');
});

t.test('the server\'s records: a driver holding two jobs at once', async (t) => {
  const ok = overlappingJobs([
    { job: 'J', driver: 'd1', times: { accepted: 10, completed: 20 } },
    { job: 'K', driver: 'd1', times: { accepted: 20, completed: 30 } },
    { job: 'L', driver: null, times: { unfulfilled: 5 } },
  ]);
  t.same(ok, [], 'back to back is fine');
  const bad = overlappingJobs([
    { job: 'J', driver: 'd1', times: { accepted: 10 } }, // never ended
    { job: 'K', driver: 'd1', times: { accepted: 20, completed: 30 } },
  ]);
  t.same(bad, [{ driver: 'd1', a: 'J', b: 'K', from: 20 }]);
});
