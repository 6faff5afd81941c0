// Tells an encoded server frame's `t` without decoding it (taxiway's frames put `t` first; see matching/job-frames.ts).

/** The bytes a frame of type `t` starts its map with after the header: key "t", then `t` as a fixstr. */
export function frameTypeBytes(t: string): Uint8Array {
  const name = Buffer.from(t, 'latin1');
  if (name.length > 31) throw new RangeError(`frame type ${t} is longer than a fixstr`);
  return Uint8Array.from([0xa1, 0x74, 0xa0 + name.length, ...name]);
}

/**
 * True when the encoded msgpack map `f` starts with the key/value `typeBytes` (from frameTypeBytes).
 * Reads at most a dozen bytes and allocates nothing: cheap enough to run on every frame a node hears,
 * decoding only the frames of the wanted type.
 */
export function frameTypeIs(f: Uint8Array, typeBytes: Uint8Array): boolean {
  const b0 = f[0];
  // Map header: fixmap (1 byte), map16 (3), map32 (5).
  const at = b0 === undefined ? -1 : b0 >= 0x80 && b0 <= 0x8f ? 1 : b0 === 0xde ? 3 : b0 === 0xdf ? 5 : -1;
  if (at < 0 || at + typeBytes.length > f.length) return false;
  for (let i = 0; i < typeBytes.length; i++) if (f[at + i] !== typeBytes[i]) return false;
  return true;
}
