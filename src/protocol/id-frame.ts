// Pre-encoded server frames that differ only by their trailing `id` (ack, the overload err): patched, not packed.
import { encodeFrame } from './codec.js';

/**
 * The frame `{...fields, id}` encoded exactly as encodeFrame would (id last, as the smallest msgpack
 * unsigned int), for ids 0..2^32-1, by patching the id into a buffer made once. Other ids (negative,
 * larger) and `undefined` (the frame without id) take the general encoder / a cached copy.
 *
 * `with()` returns a SCRATCH buffer, valid until the next call: send it at once (uWS copies what it
 * sends) and copy it if it has to wait in a queue (Delivery.reliableScratch does).
 */
export class IdFrame {
  private readonly byLen: Buffer[];
  private readonly noId: Buffer;

  constructor(private readonly fields: Record<string, unknown>) {
    const withZero = encodeFrame({ ...fields, id: 0 });
    if (withZero[withZero.length - 1] !== 0x00) throw new Error('IdFrame: id is not encoded last');
    const prefix = withZero.subarray(0, withZero.length - 1);
    // One buffer per id width: fixint (1 byte), uint8 (2), uint16 (3), uint32 (5).
    this.byLen = [1, 2, 3, 5].map((w) => {
      const b = Buffer.alloc(prefix.length + w);
      prefix.copy(b, 0);
      return b;
    });
    this.noId = Buffer.from(encodeFrame(fields));
  }

  with(id: number | undefined): Buffer {
    if (id === undefined) return this.noId;
    if (!(id >= 0 && id <= 0xffffffff && Number.isInteger(id))) return encodeFrame({ ...this.fields, id });
    let b: Buffer;
    if (id < 0x80) {
      b = this.byLen[0]!;
      b[b.length - 1] = id;
    } else if (id < 0x100) {
      b = this.byLen[1]!;
      b[b.length - 2] = 0xcc;
      b[b.length - 1] = id;
    } else if (id < 0x10000) {
      b = this.byLen[2]!;
      b[b.length - 3] = 0xcd;
      b.writeUInt16BE(id, b.length - 2);
    } else {
      b = this.byLen[3]!;
      b[b.length - 5] = 0xce;
      b.writeUInt32BE(id, b.length - 4);
    }
    return b;
  }
}
