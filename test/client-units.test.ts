// The SDK's pure parts: full-jitter backoff bounds, the offline fix buffer's bound and order, JWT expiry reading, listeners.
import t from 'tap';
import { backoffDelay, backoffSettings } from '../src/client/backoff.js';
import { FixBuffer } from '../src/client/fix-buffer.js';
import { Listeners } from '../src/client/listeners.js';
import { TokenSource, tokenExpiryMs } from '../src/client/token-source.js';
import type { TokenReason } from '../src/client/token-source.js';
import type { LocsPoint } from '../src/protocol/messages.js';
import { mulberry32 } from '../src/util/random.js';

t.test('backoff: full jitter under an exponential ceiling, bounded by maxMs', async (t) => {
  const b = backoffSettings({ initialMs: 100, maxMs: 1000, factor: 2 });
  t.equal(backoffDelay(b, 1, () => 0.999999), 99, 'attempt 1: below initialMs');
  t.equal(backoffDelay(b, 3, () => 0.999999), 399, 'attempt 3: below 100 * 2^2');
  t.equal(backoffDelay(b, 30, () => 0.999999), 999, 'never above maxMs');
  t.equal(backoffDelay(b, 5, () => 0), 0, 'jitter reaches zero');
  const rand = mulberry32(7);
  const delays = Array.from({ length: 200 }, () => backoffDelay(b, 10, rand));
  t.ok(delays.every((d) => d >= 0 && d < 1000), 'all within [0, maxMs)');
  t.ok(new Set(delays).size > 100, 'spread out, not in lockstep');
  t.throws(() => backoffSettings({ initialMs: 10, maxMs: 5 }), RangeError);
});

t.test('fix buffer: bounded, oldest dropped first and counted, batches oldest first', async (t) => {
  const buf = new FixBuffer(3);
  const p = (ts: number): LocsPoint => [ts, 43.7, 7.4];
  for (let ts = 1; ts <= 5; ts++) buf.push(p(ts));
  t.equal(buf.size, 3);
  t.equal(buf.dropped, 2, 'two dropped');
  t.same(buf.take(2).map((x) => x[0]), [3, 4], 'the oldest kept come first');
  buf.unshift([p(2), p(3)]);
  t.same(buf.take(10).map((x) => x[0]), [2, 3, 5], 'put back in front, in order');
  t.throws(() => new FixBuffer(0), RangeError);
});

t.test('token source: the provider is asked at first, on expiry and after a refusal', async (t) => {
  const jwt = (expS: number): string => `h.${Buffer.from(JSON.stringify({ exp: expS })).toString('base64url')}.s`;
  t.equal(tokenExpiryMs(jwt(1_800_000_000)), 1_800_000_000_000, 'exp read as ms');
  t.equal(tokenExpiryMs('not-a-jwt'), undefined);
  const reasons: TokenReason[] = [];
  let exp = 1000;
  const src = new TokenSource((why) => { reasons.push(why); return jwt(exp); }, 5000);
  await src.get(0);
  await src.get(100_000); // 1000 s exp, 5 s skew: still good at 100 s
  await src.get(996_000); // within the skew of exp
  exp = 5000;
  src.refused();
  await src.get(997_000);
  t.same(reasons, ['initial', 'expired', 'refused']);
  t.notOk(new TokenSource('fixed', 0).renewable, 'a fixed token cannot be renewed');
});

t.test('listeners: several per event, removable, one throwing does not stop the others', async (t) => {
  const errors: unknown[] = [];
  const l = new Listeners<{ x: number }>((err) => errors.push(err));
  const seen: string[] = [];
  const off = l.on('x', (n) => seen.push(`a${n}`));
  l.on('x', () => { throw new Error('boom'); });
  l.once('x', (n) => seen.push(`once${n}`));
  l.emit('x', 1);
  off();
  l.emit('x', 2);
  t.same(seen, ['a1', 'once1']);
  t.equal(errors.length, 2, 'the throwing listener reported twice');
  t.equal(l.count('x'), 1);
});
