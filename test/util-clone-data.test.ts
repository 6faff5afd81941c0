// cloneData copies plain data exactly as structuredClone does, shares nothing with its source, and falls back for the rest.
import t from 'tap';
import { cloneData } from '../src/util/clone-data.js';
import { mulberry32 } from '../src/util/random.js';

function randomValue(rnd: () => number, depth: number): unknown {
  const k = Math.floor(rnd() * (depth > 3 ? 6 : 9));
  switch (k) {
    case 0: return rnd() < 0.5 ? null : undefined;
    case 1: return rnd() < 0.5;
    case 2: return [0, -0, 1.5, -7, 1733371200123, NaN, Infinity][Math.floor(rnd() * 7)];
    case 3: return 'porto.' + Math.floor(rnd() * 1e6).toString(16);
    case 4: return BigInt(Math.floor(rnd() * 1e9));
    case 5: return '';
    case 6: case 7: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(rnd() * 6);
      for (let i = 0; i < n; i++) o[['id', 'state', 'pickup', 'lat', 'lng', 'driver', 'offers', '__proto_x', '0'][i]!] = randomValue(rnd, depth + 1);
      return o;
    }
    default: return Array.from({ length: Math.floor(rnd() * 5) }, () => randomValue(rnd, depth + 1));
  }
}

t.test('equal to structuredClone on 20,000 random plain values, sharing no object with the source', async (t) => {
  const rnd = mulberry32(7);
  let differ = 0;
  let shared = 0;
  const seen = (a: unknown, b: unknown): void => {
    if (typeof a !== 'object' || a === null) return;
    if (a === b) shared++;
    for (const k of Object.keys(a)) seen((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]);
  };
  for (let i = 0; i < 20_000; i++) {
    const v = randomValue(rnd, 0);
    const c = cloneData(v);
    try {
      t.strictSame(c, structuredClone(v));
    } catch {
      differ++;
    }
    seen(v, c);
  }
  t.equal(differ, 0);
  t.equal(shared, 0, 'no object of the copy is one of the source');
});

t.test('keeps undefined-valued keys, -0 and NaN; copies null-prototype objects; falls back for others', async (t) => {
  const c = cloneData({ a: undefined, z: -0, n: NaN });
  t.ok('a' in c);
  t.ok(Object.is(c.z, -0));
  t.ok(Number.isNaN(c.n));
  const np = Object.assign(Object.create(null) as Record<string, unknown>, { x: [1, { y: 2 }] });
  t.same(cloneData(np), { x: [1, { y: 2 }] });
  const d = new Date(5);
  const cd = cloneData({ d }).d;
  t.ok(cd instanceof Date && cd !== d && cd.getTime() === 5, 'a Date goes through structuredClone');
});
