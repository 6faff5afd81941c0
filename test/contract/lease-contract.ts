// Contract suite for the Lease port, run against the in-memory and the Redis adapters.
import type { Lease } from '../../src/bus/lease.js';
import type { TapTest } from './storage-contract.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `make` returns two leases sharing one backend (two "nodes"), on a fresh key space. */
export function leaseContract(t: TapTest, name: string, make: () => Promise<[Lease, Lease]>): void {
  t.test(`${name}: one holder at a time; renew and release only by the holder's token`, async (t) => {
    const [a, b] = await make();
    t.equal(await a.acquire('city:x', 'A', 5000), true, 'a free lease is taken');
    t.equal(await b.acquire('city:x', 'B', 5000), false, 'a held lease is not');
    t.equal(await a.acquire('city:x', 'A', 5000), false, 'not even again by its holder (renew is for that)');
    t.equal(await b.acquire('city:y', 'B', 5000), true, 'another name is another lease');
    t.equal(await b.renew('city:x', 'B', 5000), false, 'renew by a non-holder fails');
    t.equal(await a.renew('city:x', 'A', 5000), true, 'renew by the holder succeeds');
    await b.release('city:x', 'B');
    t.equal(await a.holder('city:x'), 'A', 'release by a non-holder changes nothing');
    await a.release('city:x', 'A');
    t.equal(await a.holder('city:x'), undefined, 'released');
    t.equal(await b.acquire('city:x', 'B', 5000), true, 'then free for the other');
    t.equal(await a.renew('city:x', 'A', 5000), false, 'the old holder cannot renew it back');
  });

  t.test(`${name}: a lease nobody renews lapses after its TTL; renewing keeps it`, async (t) => {
    const [a, b] = await make();
    t.equal(await a.acquire('l', 'A', 150), true);
    await sleep(80);
    t.equal(await a.renew('l', 'A', 150), true);
    await sleep(100);
    t.equal(await b.acquire('l', 'B', 150), false, 'renewed: still held past the first TTL');
    await sleep(200);
    t.equal(await b.acquire('l', 'B', 150), true, 'lapsed: the other takes it');
    t.equal(await a.renew('l', 'A', 150), false, 'the lapsed holder learns it lost it');
    t.equal(await b.holder('l'), 'B');
  });

  t.test(`${name}: concurrent acquires: exactly one wins`, async (t) => {
    const [a, b] = await make();
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).acquire('race', `T${i}`, 5000)));
    t.equal(rs.filter(Boolean).length, 1);
  });
}
