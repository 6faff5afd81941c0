// Codec and validation: msgpack maps only, every field rule, integer encodings.
import t from 'tap';
import { Packr } from 'msgpackr';
import { decodeFrame, encodeFrame } from '../src/protocol/codec.js';
import { ProtocolError } from '../src/protocol/errors.js';
import { parseDriverMessage, parseOpsMessage, parseRiderMessage, checkFix } from '../src/protocol/validate.js';

const code = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof ProtocolError ? e.code : 'THREW ' + String(e);
  }
};

t.test('decodeFrame accepts one map and rejects everything else as bad_frame', async (t) => {
  t.same(decodeFrame(encodeFrame({ t: 'loc', lat: 1 })), { t: 'loc', lat: 1 });
  for (const bad of [Buffer.alloc(0), Buffer.from([0xc1]), encodeFrame([1]), encodeFrame('str' as never), encodeFrame(5 as never), Buffer.from([0x81, 0xa1]), Buffer.concat([encodeFrame({ a: 1 }), encodeFrame({ b: 2 })])]) {
    t.equal(code(() => decodeFrame(bad)), 'bad_frame');
  }
  const big = new Packr({ useRecords: false, int64AsType: 'bigint' } as never).pack({ ts: 2n ** 60n });
  t.equal(typeof decodeFrame(big).ts, 'number', 'uint64 decodes as a number, not BigInt');
  t.same(decodeFrame(encodeFrame({ ['__proto__']: { polluted: true } })).polluted, undefined);
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
});

t.test('encodeFrame leaves undefined fields out (no extension types)', async (t) => {
  const b = encodeFrame({ t: 'x', a: undefined, b: 1 });
  t.same(decodeFrame(b), { t: 'x', b: 1 });
  t.notOk(b.includes(0xd4), 'no fixext1');
});

t.test('checkFix ranges', async (t) => {
  const now = Date.now();
  t.equal(checkFix(now, 0, 0, undefined, undefined, undefined), null);
  t.equal(checkFix(now, 90, 180, 0, 0, 0), null);
  t.equal(checkFix(now, -90, -180, 359.9, 100, 5), null);
  t.match(checkFix(now, 90.0001, 0, undefined, undefined, undefined), /lat/);
  t.match(checkFix(now, 0, -180.1, undefined, undefined, undefined), /lng/);
  t.match(checkFix(now, 0, 0, 360, undefined, undefined), /hdg/);
  t.match(checkFix(now, 0, 0, -1, undefined, undefined), /hdg/);
  t.match(checkFix(now, 0, 0, undefined, -0.1, undefined), /spd/);
  t.match(checkFix(now, 0, 0, undefined, undefined, -1), /acc/);
  t.match(checkFix('now', 0, 0, undefined, undefined, undefined), /ts/);
  t.match(checkFix(now, NaN, 0, undefined, undefined, undefined), /lat/);
  t.match(checkFix(now, '1', 0, undefined, undefined, undefined), /lat/);
  t.match(checkFix(now + 0.5, 0, 0, undefined, undefined, undefined), /ts/, 'fractional ts');
  t.match(checkFix(-1, 0, 0, undefined, undefined, undefined), /ts/);
  t.equal(checkFix(now, 0, 0, 0, 5000, 1e7), null, 'no upper limit on spd and acc');
  t.equal(checkFix(now, 0, 0, null, null, null), null, 'null optional fields mean absent');
});

t.test('driver messages', async (t) => {
  const now = Date.now();
  const loc = parseDriverMessage({ t: 'loc', lat: 1, lng: 2, ts: now, id: 3 });
  t.same(loc, { t: 'loc', id: 3, fix: { ts: now, lat: 1, lng: 2, hdg: NaN, spd: NaN, acc: NaN } });
  t.equal(code(() => parseDriverMessage({ t: 'loc', lat: 1, lng: 2, ts: now, id: 1.5 })), 'bad_request');
  t.equal(code(() => parseDriverMessage({ t: 'locs', pts: 'x' })), 'bad_request');
  t.equal(code(() => parseDriverMessage({ t: 'locs', pts: [] })), 'ok', 'an empty batch is fine');
  t.equal(code(() => parseDriverMessage({ t: 'locs', pts: new Array(1001).fill([now, 1, 1]) })), 'bad_request');
  const locs = parseDriverMessage({ t: 'locs', pts: [[now, 1, 1], [now, 100, 1], 'x', [now, 1, 1, 10, 2, 3]] });
  t.equal(locs.t, 'locs');
  if (locs.t === 'locs') {
    t.equal(typeof locs.pts[0], 'object');
    t.match(locs.pts[1], /pts\[1\].*lat/);
    t.match(locs.pts[2], /pts\[2\]/);
    t.same(locs.pts[3], { ts: now, lat: 1, lng: 1, hdg: 10, spd: 2, acc: 3 });
  }
  t.equal(code(() => parseDriverMessage({ t: 'status', s: 'sleeping' })), 'bad_request');
  t.equal(code(() => parseDriverMessage({ t: 'status', s: 'available' })), 'ok');
  for (const k of ['accept', 'decline', 'arrived', 'start', 'complete', 'cancel']) {
    t.equal(code(() => parseDriverMessage({ t: k, job: 'j_1' })), 'ok', k);
    t.equal(code(() => parseDriverMessage({ t: k })), 'bad_request', `${k} without job`);
    t.equal(code(() => parseDriverMessage({ t: k, job: 'bad id with spaces' })), 'bad_request');
  }
  t.equal(code(() => parseDriverMessage({ t: 'cancel', job: 'j', reason: 5 })), 'bad_request');
  t.equal(code(() => parseDriverMessage({ t: 'nope' })), 'bad_request');
  t.equal(code(() => parseDriverMessage({ t: 7 })), 'bad_request');
  t.equal(code(() => parseDriverMessage({})), 'bad_request');
});

t.test('rider and ops messages', async (t) => {
  t.same(parseRiderMessage({ t: 'sub', job: 'j1' }), { t: 'sub', id: undefined, job: 'j1' });
  t.equal(code(() => parseRiderMessage({ t: 'sub' })), 'bad_request');
  t.equal(code(() => parseRiderMessage({ t: 'loc', job: 'j' })), 'bad_request');
  t.same(parseOpsMessage({ t: 'sub' }), { t: 'sub', id: undefined, city: undefined });
  t.equal(code(() => parseOpsMessage({ t: 'sub', city: 5 })), 'bad_request');
});
