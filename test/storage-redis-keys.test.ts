// Redis key naming: job ids name their city; every key and channel of a city shares its hash tag (one Redis Cluster slot).
import t from 'tap';
import { JOB_ID_PATTERN, cityOfJobId, newJobId } from '../src/protocol/job-id.js';
import { RedisKeys, cityScoped, fleetChannel, hashSlot } from '../src/storage/redis-keys.js';

t.test('job ids: <city>.<16 characters>, the city read back; ids made before 2026-12-05 have none', async (t) => {
  const id = newJobId('porto');
  t.match(id, /^porto\.[A-Za-z0-9_-]{16}$/);
  t.equal(cityOfJobId(id), 'porto');
  t.not(newJobId('porto'), id, 'random');
  const longest = newJobId('x'.repeat(64));
  t.equal(longest.length, 81);
  t.ok(JOB_ID_PATTERN.test(longest), 'a 64-character city still makes a valid id');
  t.equal(cityOfJobId('j_4f0c9a2e-8d1b-4c3a-9f00-123456789abc'), null, 'an old id');
  t.equal(cityOfJobId('.abc'), null);
  t.equal(cityOfJobId('a.b.c'), null);
});

t.test('every key and channel of a city is in the city\'s slot; cities differ; the CRC16 is Redis Cluster\'s', async (t) => {
  const k = new RedisKeys('taxiway:');
  const slot = hashSlot('{porto}');
  const all = [
    k.job(newJobId('porto')), k.held('porto'), k.done('porto'), k.seq('porto'), k.riderOpen('porto', 'r1'),
    k.driverOffer('porto', 'd1'), k.driverActive('porto', 'd1'), k.fleet('geo', 'porto'), k.fleet('pos', 'porto'),
    k.fleet('seen', 'porto'), k.eta('porto'), k.lease(cityScoped('porto', 'dispatch')), k.channel(fleetChannel('porto')),
  ];
  for (const key of all) t.equal(hashSlot(key), slot, key);
  t.not(hashSlot(k.held('lisbon')), slot);
  t.equal(hashSlot(k.catalog('version')), hashSlot(k.catalog('history')), 'the catalog: one slot');
  t.equal(k.job('j_old'), 'taxiway:job:j_old', 'an old id keeps its untagged key');
  // Values of CLUSTER KEYSLOT on Redis 7.
  t.equal(hashSlot('foo'), 12182);
  t.equal(hashSlot('{user1000}.following'), hashSlot('user1000'));
  t.equal(hashSlot('foo{}{bar}'), hashSlot('foo{}{bar}'.toString()), 'an empty tag: the whole key');
  t.equal(hashSlot('123456789'), 0x31c3 % 16384, 'CRC16/XMODEM check value');
});
