// Keyed token buckets: burst then rate, the wait until the next token, bounded keys; client address keys.
import t from 'tap';
import { KeyedBuckets } from '../src/util/keyed-buckets.js';
import { clientKey } from '../src/ws/job-request-limits.js';

t.test('a burst, then one token per 1/rate seconds; the wait says when', async (t) => {
  const b = new KeyedBuckets(2, 3); // 2/s, burst 3
  for (let i = 0; i < 3; i++) t.equal(b.take('a', 1000), 0);
  t.equal(b.take('a', 1000), 500, 'next token in 500 ms');
  t.equal(b.take('a', 1250), 250, 'a refusal spends nothing');
  t.equal(b.take('a', 1500), 0);
  t.equal(b.take('b', 1500), 0, 'keys are independent');
  t.equal(b.take('a', 1_000_000), 0, 'refilled after a long pause');
});

t.test('rate 0 means no limit and holds nothing', async (t) => {
  const b = new KeyedBuckets(0, 1);
  for (let i = 0; i < 100; i++) t.equal(b.take('k' + i, 0), 0);
  t.equal(b.size, 0);
});

t.test('keys are bounded: refilled buckets are forgotten, and the least recent past maxKeys', async (t) => {
  const b = new KeyedBuckets(1, 2, 100);
  for (let i = 0; i < 1000; i++) b.take('k' + i, 0);
  t.equal(b.size, 100, 'never more than maxKeys');
  b.take('late', 10_000); // every other bucket refilled long ago
  t.equal(b.size, 1, 'refilled buckets are dropped');
  // A flood of new keys never evicts a key in active use more than the bound allows.
  const c = new KeyedBuckets(1, 1, 10);
  t.equal(c.take('hot', 0), 0);
  t.ok(c.take('hot', 1) > 0, 'hot is spent');
  for (let i = 0; i < 5; i++) c.take('cold' + i, 2);
  t.ok(c.take('hot', 3) > 0, 'still remembered within the bound');
});

t.test('client address keys: IPv4 as is (also IPv4-mapped), IPv6 by /64', async (t) => {
  t.equal(clientKey('127.0.0.1'), '127.0.0.1');
  t.equal(clientKey('0000:0000:0000:0000:0000:ffff:127.0.0.1'), '127.0.0.1');
  t.equal(clientKey('::ffff:10.1.2.3'), '10.1.2.3');
  t.equal(clientKey('0000:0000:0000:0000:0000:ffff:7f00:0001'), '127.0.0.1', 'how uWS shows an IPv4 peer on a dual-stack listener');
  t.equal(clientKey('0000:0000:0000:0000:0000:ffff:c0a8:01fe'), '192.168.1.254');
  t.equal(clientKey('2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
  t.equal(clientKey('2001:db8:1:2::1'), '2001:db8:1:2::/64', 'same /64, other host: same key');
  t.equal(clientKey('::1'), '0:0:0:0::/64');
  t.equal(clientKey('not an address'), 'not an address');
});
