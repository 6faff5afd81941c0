// byte-view's big-endian readers against DataView on random bytes at every offset, and float special values.
import t from 'tap';
import { readF32, readF64, readI16, readI32, readI8, readU16, readU32 } from '../src/protocol/byte-view.js';

t.test('every reader equals DataView (big-endian) on random bytes at every offset', async (t) => {
  let seed = 12345;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
  const buf = new Uint8Array(4096);
  for (let i = 0; i < buf.length; i++) buf[i] = rnd();
  // A subarray with a non-zero byteOffset, as uWS and Buffer pools hand them.
  const b = buf.subarray(3);
  const d = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let bad = 0;
  const same = (x: number, y: number): boolean => (Number.isNaN(x) && Number.isNaN(y)) || Object.is(x, y);
  for (let i = 0; i + 8 <= b.length; i++) {
    if (!same(readU16(b, i), d.getUint16(i))) bad++;
    if (!same(readU32(b, i), d.getUint32(i))) bad++;
    if (!same(readI8(b, i), d.getInt8(i))) bad++;
    if (!same(readI16(b, i), d.getInt16(i))) bad++;
    if (!same(readI32(b, i), d.getInt32(i))) bad++;
    if (!same(readF32(b, i), d.getFloat32(i))) bad++;
    if (!same(readF64(b, i), d.getFloat64(i))) bad++;
  }
  t.equal(bad, 0);
});

t.test('float64 values round-trip bit for bit', async (t) => {
  const vals = [0, -0, 1, -1, 41.14961, -8.61099, 1e-310, Number.MAX_VALUE, -Number.MIN_VALUE, Infinity, -Infinity, 1733371200123, 2 ** 53 - 1];
  const b = new Uint8Array(9);
  const d = new DataView(b.buffer);
  for (const v of vals) {
    d.setFloat64(1, v);
    t.ok(Object.is(readF64(b, 1), v), String(v));
  }
  d.setFloat64(1, NaN);
  t.ok(Number.isNaN(readF64(b, 1)));
  d.setFloat32(1, 3.5);
  t.equal(readF32(b, 1), 3.5);
});
