// The allocation-free loc decoder agrees with the general decoder + validator on every frame it accepts.
import t from 'tap';
import { Packr } from 'msgpackr';
import { decodeFrame } from '../src/protocol/codec.js';
import { LOC_OK, LocScratch, decodeLoc } from '../src/protocol/fast-loc.js';
import { fixNumbersValid, parseDriverMessage } from '../src/protocol/validate.js';
import { mulberry32 } from '../src/util/random.js';


const packers = [
  new Packr({ useRecords: false }),
  new Packr({ useRecords: false, useFloat32: 1 } as never),
  new Packr({ useRecords: false, int64AsType: 'bigint' } as never),
];

t.test('random frames: fast path accepts only what the general path accepts, with the same values', async (t) => {
  const rand = mulberry32(7);
  const s = new LocScratch();
  let fast = 0;
  for (let i = 0; i < 20_000; i++) {
    const m: Record<string, unknown> = { t: rand() < 0.9 ? 'loc' : 'status' };
    const pick = (): unknown => {
      const r = rand();
      if (r < 0.6) return (rand() - 0.5) * 400;
      if (r < 0.7) return Math.floor(rand() * 300);
      if (r < 0.75) return null;
      if (r < 0.8) return 'x';
      if (r < 0.85) return -Math.floor(rand() * 100);
      return rand() * 359;
    };
    if (rand() < 0.95) m.ts = rand() < 0.5 ? 1_764_300_000_000 + Math.floor(rand() * 1e6) : rand() < 0.5 ? BigInt(1_764_300_000_000) : 1.5;
    if (rand() < 0.95) m.lat = pick();
    if (rand() < 0.95) m.lng = pick();
    for (const k of ['hdg', 'spd', 'acc']) if (rand() < 0.4) m[k] = pick();
    if (rand() < 0.3) m.id = rand() < 0.8 ? Math.floor(rand() * 1e6) : 2.5;
    if (rand() < 0.05) m.extra = 1;
    const bytes = packers[i % packers.length]!.pack(m);
    const ok = decodeLoc(bytes, s) === LOC_OK && fixNumbersValid(s.ts, s.lat, s.lng, s.hdg, s.spd, s.acc);
    let general: ReturnType<typeof parseDriverMessage> | null = null;
    try {
      general = parseDriverMessage(decodeFrame(bytes));
    } catch {
      general = null;
    }
    if (ok) {
      fast++;
      if (!general || general.t !== 'loc') {
        t.fail(`fast accepted what general refused: ${JSON.stringify(m, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
        continue;
      }
      const f = general.fix;
      if (!(f.ts === s.ts && f.lat === s.lat && f.lng === s.lng && Object.is(f.hdg, s.hdg) && Object.is(f.spd, s.spd) && Object.is(f.acc, s.acc) && (general.id === undefined ? Number.isNaN(s.id) : general.id === s.id))) {
        t.fail(`values differ for ${JSON.stringify(m, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
      }
    }
  }
  t.ok(fast > 1000, `fast path taken ${fast} times`);
});

t.test('truncated and trailing bytes fall back', async (t) => {
  const s = new LocScratch();
  const good = new Packr({ useRecords: false }).pack({ t: 'loc', lat: 1, lng: 2, ts: 1_764_300_000_000 });
  t.equal(decodeLoc(good, s), LOC_OK);
  for (let cut = 1; cut < good.length; cut++) t.not(decodeLoc(good.subarray(0, cut), s), LOC_OK);
  t.not(decodeLoc(Buffer.concat([good, Buffer.from([0])]), s), LOC_OK);
  // A view into a larger buffer (as uWS may hand us) decodes correctly.
  const big = Buffer.concat([Buffer.alloc(13), good]);
  t.equal(decodeLoc(new Uint8Array(big.buffer, big.byteOffset + 13, good.length), s), LOC_OK);
  t.equal(s.lat, 1);
});
