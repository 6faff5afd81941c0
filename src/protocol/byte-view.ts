// One cached DataView per underlying buffer, for the allocation-free frame readers (fast-loc, locs-peek).

let view: DataView | null = null;
let viewBuf: ArrayBufferLike | null = null;

/**
 * A DataView over the whole buffer behind `b` (index it with `b.byteOffset + i`). uWS hands every
 * message in the same buffer, so the view is made once and reused: no allocation per frame.
 */
export function viewOf(b: Uint8Array): DataView {
  if (viewBuf !== b.buffer) {
    view = new DataView(b.buffer);
    viewBuf = b.buffer;
  }
  return view!;
}
