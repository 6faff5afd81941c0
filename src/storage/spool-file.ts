// Spool segment files: framed records ([u32 length][u32 crc32][payload]), reading and torn-tail repair.
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';

export const HEADER_BYTES = 8;
/** Larger records are corrupt by definition (a chunk is < 100 KB, a job event a few KB), bytes. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
const SEGMENT_RE = /^spool-(\d{12})\.log$/;

export function segmentPath(dir: string, seg: number): string {
  return path.join(dir, `spool-${String(seg).padStart(12, '0')}.log`);
}

/** Segment numbers in `dir`, ascending. */
export function listSegments(dir: string): number[] {
  return fs.readdirSync(dir).flatMap((f) => {
    const m = SEGMENT_RE.exec(f);
    return m ? [Number(m[1])] : [];
  }).sort((a, b) => a - b);
}

export function frame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, HEADER_BYTES);
  return out;
}

/**
 * Parses whole records from `buf` (read at file offset `base`). Returns the payloads with the file
 * offset just past each, and `bad` when a record fails its checksum (a torn or corrupt tail).
 */
export function parseRecords(buf: Buffer, base: number, max: number): { records: Array<{ payload: Buffer; end: number }>; bad: boolean } {
  const records: Array<{ payload: Buffer; end: number }> = [];
  let o = 0;
  while (records.length < max && o + HEADER_BYTES <= buf.length) {
    const len = buf.readUInt32LE(o);
    if (len > MAX_RECORD_BYTES) return { records, bad: true };
    if (o + HEADER_BYTES + len > buf.length) break; // incomplete: the caller reads more
    const payload = buf.subarray(o + HEADER_BYTES, o + HEADER_BYTES + len);
    if (crc32(payload) !== buf.readUInt32LE(o + 4)) return { records, bad: true };
    o += HEADER_BYTES + len;
    records.push({ payload: Buffer.from(payload), end: base + o });
  }
  return { records, bad: false };
}

/** Reads `length` bytes at `offset` (fewer at end of file). */
export async function readAt(file: string, offset: number, length: number): Promise<Buffer> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * The end of the last intact record of a segment; a crash mid-append leaves a torn record behind,
 * which this finds so the caller can cut it off. Reads the file in 1 MiB blocks.
 */
export async function validEnd(file: string): Promise<number> {
  const size = fs.statSync(file).size;
  let off = 0;
  let want = 1024 * 1024;
  while (off < size) {
    const buf = await readAt(file, off, Math.min(want, size - off));
    const { records, bad } = parseRecords(buf, off, Infinity);
    if (bad) return records.length ? records.at(-1)!.end : off;
    if (records.length === 0) {
      if (off + buf.length >= size) return off; // a partial header or payload at the very end
      want *= 2; // one record larger than the block: read more
      continue;
    }
    off = records.at(-1)!.end;
  }
  return off;
}
