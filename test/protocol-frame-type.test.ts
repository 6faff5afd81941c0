// frameTypeIs: tells an encoded frame's `t` from its first bytes, for every map header size, without confusing prefixes.
import t from 'tap';
import { Packr } from 'msgpackr';
import { encodeFrame } from '../src/protocol/codec.js';
import { frameTypeBytes, frameTypeIs } from '../src/protocol/frame-type.js';

t.test('offer frames are told apart from every other frame', async (t) => {
  const OFFER = frameTypeBytes('offer');
  t.ok(frameTypeIs(encodeFrame({ t: 'offer', job: 'j1', eta_s: 5 }), OFFER));
  t.notOk(frameTypeIs(encodeFrame({ t: 'offer_revoked', job: 'j1', reason: 'expired' }), OFFER), 'a longer type sharing the prefix');
  t.notOk(frameTypeIs(encodeFrame({ t: 'job', job: 'j1' }), OFFER));
  t.notOk(frameTypeIs(encodeFrame({ job: 'j1', t: 'offer' }), OFFER), 't not first: not recognised (taxiway frames put it first)');
  const big: Record<string, unknown> = { t: 'offer' };
  for (let i = 0; i < 20; i++) big[`k${i}`] = i; // map16 header
  t.ok(frameTypeIs(new Packr({ useRecords: false, variableMapSize: true } as ConstructorParameters<typeof Packr>[0]).pack(big), OFFER));
  t.notOk(frameTypeIs(Buffer.alloc(0), OFFER));
  t.notOk(frameTypeIs(Buffer.from([0x81, 0xa1]), OFFER), 'truncated');
  t.throws(() => frameTypeBytes('x'.repeat(32)));
});
