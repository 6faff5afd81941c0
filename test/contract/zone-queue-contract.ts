// One contract suite for every ZoneQueue adapter (memory, Redis, Sentinel): FIFO order, idempotent join, bound, leave, list, clear, atomic concurrent joins.
import type { QueueRef, ZoneQueue } from '../../src/matching/zone-queue.js';
import type { TapTest } from './storage-contract.js';

let n = 0;
const ref = (city = 'nice'): QueueRef => ({ city, zone: `z${process.pid}_${n++}` });

/**
 * `make()` opens a queue store over a fresh key space. `reopen` (durable adapters): a second store
 * over the same key space, as another node or this one restarted; without it that test is skipped.
 */
export function zoneQueueContract(t: TapTest, name: string, make: () => Promise<ZoneQueue>, features: { reopen?: (q: ZoneQueue) => Promise<ZoneQueue> } = {}): void {
  t.test(`${name}: first in, first listed; positions and length`, async (t) => {
    const zq = await make();
    const q = ref();
    t.same(await zq.position(q, 'a'), { position: 0, length: 0 }, 'an empty queue');
    t.same(await zq.list(q, 0, 10), { members: [], length: 0 });
    t.same(await zq.join(q, 'a', 1000, 10), { position: 1, length: 1, added: true, full: false });
    t.same(await zq.join(q, 'b', 2000, 10), { position: 2, length: 2, added: true, full: false });
    t.same(await zq.join(q, 'c', 3000, 10), { position: 3, length: 3, added: true, full: false });
    t.same(await zq.position(q, 'b'), { position: 2, length: 3 });
    t.same(await zq.list(q, 0, 10), { members: [{ driver: 'a', joined: 1000 }, { driver: 'b', joined: 2000 }, { driver: 'c', joined: 3000 }], length: 3 });
    t.same((await zq.list(q, 1, 1)).members, [{ driver: 'b', joined: 2000 }], 'offset and limit page the queue');
    t.same(await zq.list(q, 5, 10), { members: [], length: 3 }, 'past the end: none');
    t.same((await zq.list(q, 0, 0)).members, [], 'limit 0: none');
    t.same(await zq.position(q, 'x'), { position: 0, length: 3 }, 'an absent driver');
    t.same(await zq.position(ref('other'), 'a'), { position: 0, length: 0 }, 'queues of other zones are apart');
  });

  t.test(`${name}: join is idempotent and keeps the original place; leaving and joining again goes to the back`, async (t) => {
    const zq = await make();
    const q = ref();
    for (const d of ['a', 'b', 'c']) await zq.join(q, d, 1, 10);
    t.same(await zq.join(q, 'a', 99, 10), { position: 1, length: 3, added: false, full: false }, 'already first: stays first');
    t.equal((await zq.list(q, 0, 1)).members[0]!.joined, 1, 'its joining time is kept too');
    t.same(await zq.leave(q, 'b'), { removed: true, length: 2 });
    t.same(await zq.leave(q, 'b'), { removed: false, length: 2 }, 'leaving twice is a no-op');
    t.same(await zq.position(q, 'c'), { position: 2, length: 2 }, 'those behind move up');
    t.same(await zq.join(q, 'b', 5, 10), { position: 3, length: 3, added: true, full: false }, 'back in: at the back');
    t.same(await zq.leave(q, 'a'), { removed: true, length: 2 });
    t.same((await zq.list(q, 0, 10)).members.map((m) => m.driver), ['c', 'b']);
    t.same(await zq.leave(ref(), 'a'), { removed: false, length: 0 }, 'leaving a queue that never was');
  });

  t.test(`${name}: bounded: a full queue refuses newcomers, not those already in`, async (t) => {
    const zq = await make();
    const q = ref();
    t.equal((await zq.join(q, 'a', 1, 2)).added, true);
    t.equal((await zq.join(q, 'b', 1, 2)).added, true);
    t.same(await zq.join(q, 'c', 1, 2), { position: 0, length: 2, added: false, full: true });
    t.same(await zq.join(q, 'b', 1, 2), { position: 2, length: 2, added: false, full: false }, 'a member is not refused');
    await zq.leave(q, 'a');
    t.same(await zq.join(q, 'c', 1, 2), { position: 2, length: 2, added: true, full: false }, 'room again');
  });

  t.test(`${name}: clear empties the queue; an emptied queue starts over`, async (t) => {
    const zq = await make();
    const q = ref();
    for (const d of ['a', 'b']) await zq.join(q, d, 1, 10);
    await zq.clear(q);
    t.same(await zq.list(q, 0, 10), { members: [], length: 0 });
    await zq.clear(q);
    t.same(await zq.join(q, 'b', 1, 10), { position: 1, length: 1, added: true, full: false });
    await zq.leave(q, 'b');
    t.same(await zq.join(q, 'a', 1, 10), { position: 1, length: 1, added: true, full: false });
  });

  t.test(`${name}: concurrent joins: each driver once, distinct places, never past the bound`, async (t) => {
    const zq = await make();
    const q = ref();
    const ids = Array.from({ length: 60 }, (_, i) => `d${i}`);
    const res = await Promise.all([...ids, ...ids].map((d) => zq.join(q, d, 1, 50)));
    const { members, length } = await zq.list(q, 0, 100);
    t.equal(length, 50, 'held at the bound');
    t.equal(new Set(members.map((m) => m.driver)).size, 50, 'no driver twice');
    t.equal(res.filter((r) => r.added).length, 50, 'exactly 50 joins added someone');
    t.equal(res.filter((r) => r.full).length, 20, 'the ten left out were refused twice each');
    const places = res.filter((r) => r.added).map((r) => r.position).sort((a, b) => a - b);
    t.same(places, Array.from({ length: 50 }, (_, i) => i + 1), 'every place given once');
  });

  const reopen = features.reopen;
  t.test(`${name}: the queue outlives the store that wrote it (another node, or a restart)`, { skip: reopen ? false : 'this adapter keeps queues in one process' }, async (t) => {
    const zq = await make();
    const q = ref();
    for (const d of ['a', 'b', 'c']) await zq.join(q, d, 7, 10);
    const other = await reopen!(zq);
    t.same((await other.list(q, 0, 10)).members.map((m) => m.driver), ['a', 'b', 'c']);
    t.same(await other.join(q, 'a', 8, 10), { position: 1, length: 3, added: false, full: false }, 'a driver on another node keeps its place');
    t.same(await other.join(q, 'd', 9, 10), { position: 4, length: 4, added: true, full: false });
    t.same(await zq.position(q, 'd'), { position: 4, length: 4 }, 'both see one queue');
  });
}
