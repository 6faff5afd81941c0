// IdFrame: the patched pre-encoded frames decode exactly like the ones encodeFrame makes, for every id width.
import t from 'tap';
import { decodeFrame, encodeFrame } from '../src/protocol/codec.js';
import { IdFrame } from '../src/protocol/id-frame.js';

t.test('ack and err frames match encodeFrame byte for byte (id last) and decode to the same object', async (t) => {
  const ack = new IdFrame({ t: 'ack' });
  const err = new IdFrame({ t: 'err', code: 'unavailable', msg: 'server overloaded' });
  for (const id of [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 40, -1, -200, 1.5]) {
    t.same(ack.with(id), encodeFrame({ t: 'ack', id }), `ack ${id}`);
    t.same(decodeFrame(err.with(id)), { t: 'err', code: 'unavailable', msg: 'server overloaded', id }, `err ${id}`);
  }
  t.same(decodeFrame(ack.with(undefined)), { t: 'ack' });
  t.same(decodeFrame(err.with(undefined)), { t: 'err', code: 'unavailable', msg: 'server overloaded' });
});
