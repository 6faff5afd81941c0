// The `locs` peek used to refuse a spent driver's frame unread: it agrees with the full decoder on every
// frame it accepts, and accepts only plain, well-formed locs frames.
import t from 'tap';
import { decodeFrame, encodeFrame } from '../src/protocol/codec.js';
import { LocsPeek, peekLocs } from '../src/protocol/locs-peek.js';
import { mulberry32 } from '../src/util/random.js';

const T = 1_764_300_000_000;
const pts = (n: number): unknown[] => Array.from({ length: n }, (_, i) => [T + i * 1000, 43.7 + i * 1e-5, 7.42, 90, 5.5, null]);
const peek = (b: Uint8Array, max = 1000): LocsPeek | null => {
  const o = new LocsPeek();
  return peekLocs(b, max, o) ? o : null;
};

t.test('plain locs frames: count and id, in any key order', async (t) => {
  t.match(peek(encodeFrame({ t: 'locs', id: 7, pts: pts(3) })), { count: 3, id: 7 });
  t.match(peek(encodeFrame({ pts: pts(1000), t: 'locs', id: 123456789012 })), { count: 1000, id: 123456789012 });
  t.match(peek(encodeFrame({ id: -5, pts: pts(20), t: 'locs' })), { count: 20, id: -5 });
  const noId = peek(encodeFrame({ t: 'locs', pts: [] }));
  t.equal(noId?.count, 0);
  t.ok(Number.isNaN(noId?.id), 'no id');
  // Points are only walked: odd ones (they would be invalid) do not matter here.
  t.match(peek(encodeFrame({ t: 'locs', pts: ['x', { a: [1, 2, { b: 'c' }] }, 3.5, null, true] })), { count: 5 });
  // Hand-made: fixmap, float64 id, array16 of 2.
  const b = Buffer.concat([Buffer.from([0x83, 0xa1, 0x74, 0xa4, 0x6c, 0x6f, 0x63, 0x73, 0xa2, 0x69, 0x64, 0xcb]), f64(42), Buffer.from([0xa3, 0x70, 0x74, 0x73, 0xdc, 0x00, 0x02, 0x93, 0x01, 0x02, 0x03, 0x93, 0x04, 0x05, 0x06])]);
  t.match(peek(b), { count: 2, id: 42 });
});

t.test('anything else takes the general decode', async (t) => {
  t.equal(peek(encodeFrame({ t: 'loc', lat: 1, lng: 2, ts: T })), null, 'loc');
  t.equal(peek(encodeFrame({ t: 'locs', pts: pts(3), extra: 1 })), null, 'unknown key');
  t.equal(peek(encodeFrame({ t: 'locs' })), null, 'no pts');
  t.equal(peek(encodeFrame({ t: 'locs', pts: 'no' })), null, 'pts not an array');
  t.equal(peek(encodeFrame({ t: 'locs', pts: pts(11) }), 10), null, 'more than the maximum');
  t.equal(peek(encodeFrame({ t: 'locs', pts: pts(1), id: 1.5 })), null, 'fractional id');
  t.equal(peek(encodeFrame({ t: 'locs', pts: pts(1), id: 'a' })), null, 'string id');
  const ok = encodeFrame({ t: 'locs', pts: pts(2), id: 1 });
  t.equal(peek(Buffer.concat([ok, Buffer.from([0x00])])), null, 'trailing byte');
  for (let cut = 0; cut < ok.length; cut++) if (peek(ok.subarray(0, cut)) !== null) t.fail(`truncated at ${cut} accepted`);
  const c1 = Buffer.from(encodeFrame({ t: 'locs', pts: [[T, 1, 2]] }));
  c1[c1.length - 1] = 0xc1;
  t.equal(peek(c1), null, 'reserved byte 0xc1');
  const ext = Buffer.from([0x82, 0xa1, 0x74, 0xa4, 0x6c, 0x6f, 0x63, 0x73, 0xa3, 0x70, 0x74, 0x73, 0x91, 0xd4, 0x01, 0x00]);
  t.equal(peek(ext), null, 'extension type inside');
  // Deep nesting is walked without recursion.
  const deep = Buffer.concat([Buffer.from([0x82, 0xa1, 0x74, 0xa4, 0x6c, 0x6f, 0x63, 0x73, 0xa3, 0x70, 0x74, 0x73, 0x91]), Buffer.alloc(60_000, 0x91), Buffer.from([0xc0])]);
  t.match(peek(deep), { count: 1 });
  // A huge declared array is refused before walking it.
  t.equal(peek(Buffer.from([0x82, 0xa1, 0x74, 0xa4, 0x6c, 0x6f, 0x63, 0x73, 0xa3, 0x70, 0x74, 0x73, 0x91, 0xdd, 0xff, 0xff, 0xff, 0xff])), null);
});

t.test('fuzz: whenever the peek accepts a frame, the full decoder reads the same count and id', async (t) => {
  const rnd = mulberry32(12);
  const base = [encodeFrame({ t: 'locs', id: 9, pts: pts(4) }), encodeFrame({ pts: pts(2), t: 'locs' }), encodeFrame({ t: 'locs', pts: [[T, 1, 2], 'x'], id: 300 })];
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    const b = Buffer.from(base[i % base.length]!);
    const flips = 1 + Math.floor(rnd() * 3);
    for (let f = 0; f < flips; f++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    const p = peek(b);
    if (p === null) continue;
    let m: Record<string, unknown>;
    try {
      m = decodeFrame(b);
    } catch (e) {
      t.fail(`peek accepted what the decoder refuses: ${b.toString('hex')} (${(e as Error).message})`);
      continue;
    }
    accepted++;
    const id = m.id === undefined ? NaN : m.id;
    if (m.t !== 'locs' || !Array.isArray(m.pts) || m.pts.length !== p.count || !Object.is(id, p.id)) {
      t.fail(`disagree on ${b.toString('hex')}: ${JSON.stringify(m).slice(0, 200)} vs ${p.count}/${p.id}`);
    }
  }
  t.ok(accepted > 100, `${accepted} mutated frames accepted and checked`);
});

function f64(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(v);
  return b;
}
