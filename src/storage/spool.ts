// Append-only local spool: records waiting for Cassandra survive a slow or absent cluster and a restart.
import fs from 'node:fs';
import path from 'node:path';
import { frame, listSegments, parseRecords, readAt, segmentPath, validEnd } from './spool-file.js';
import type { StorageLogger } from './storage-logger.js';

/** A place in the spool: segment number and byte offset in it. */
export interface SpoolPosition {
  seg: number;
  off: number;
}

export interface SpoolOptions {
  /** A segment is closed and a new one started past this size, bytes. */
  segmentBytes?: number;
  /** Appends are refused (the caller drops and logs) once this many bytes wait for replay, bytes. */
  maxBytes?: number;
  /** Longest wait before buffered appends are written and fdatasync'ed (group commit), ms. */
  syncDelayMs?: number;
  logger?: StorageLogger;
}

/** Spool dirs open in this process: two spools on one dir would interleave records. */
const openDirs = new Set<string>();

export class Spool {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private waiters: Array<() => void> = [];
  private syncing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private fh: fs.promises.FileHandle | null = null;
  /** Where durable appended data ends (readers never pass it). */
  private end: SpoolPosition;
  private readPos: SpoolPosition;
  private commitPos: SpoolPosition;
  /** Sizes of the segments still on disk, bytes. */
  private readonly sizes = new Map<number, number>();
  private closed = false;
  private readonly segmentBytes: number;
  private readonly maxBytes: number;
  private readonly syncDelayMs: number;
  private readonly log: StorageLogger | undefined;

  private constructor(readonly dir: string, segs: Map<number, number>, cursor: SpoolPosition, opts: SpoolOptions) {
    this.segmentBytes = opts.segmentBytes ?? 64 * 1024 * 1024;
    this.maxBytes = opts.maxBytes ?? 8 * 1024 ** 3;
    this.syncDelayMs = opts.syncDelayMs ?? 20;
    this.log = opts.logger;
    for (const [s, n] of segs) this.sizes.set(s, n);
    const last = Math.max(cursor.seg, ...segs.keys());
    this.end = { seg: last, off: segs.get(last) ?? 0 };
    this.readPos = { ...cursor };
    this.commitPos = { ...cursor };
  }

  /** Opens (creating) the spool in `dir`, repairing a torn last record and resuming at the saved cursor. */
  static async open(dir: string, opts: SpoolOptions = {}): Promise<Spool> {
    const abs = path.resolve(dir);
    if (openDirs.has(abs)) throw new Error(`spool ${abs} is already open in this process`);
    fs.mkdirSync(abs, { recursive: true });
    takeLock(abs);
    openDirs.add(abs);
    try {
      const segs = new Map<number, number>();
      const list = listSegments(abs);
      for (const s of list) segs.set(s, fs.statSync(segmentPath(abs, s)).size);
      const last = list.at(-1);
      if (last !== undefined) {
        const good = await validEnd(segmentPath(abs, last));
        if (good < segs.get(last)!) {
          opts.logger?.warn({ segment: last, cut: segs.get(last)! - good }, 'spool: cutting a torn record left by a crash');
          fs.truncateSync(segmentPath(abs, last), good);
          segs.set(last, good);
        }
      }
      let cursor = readCursor(abs) ?? { seg: list[0] ?? 1, off: 0 };
      if (list.length && cursor.seg < list[0]!) cursor = { seg: list[0]!, off: 0 };
      if (!list.length) cursor = { seg: cursor.seg + 1, off: 0 }; // fresh segment numbers after a reset
      return new Spool(abs, segs, cursor, opts);
    } catch (err) {
      openDirs.delete(abs);
      releaseLock(abs);
      throw err;
    }
  }

  /** Bytes appended and not yet committed as replayed (including buffered appends). */
  get pendingBytes(): number {
    let n = this.bufferedBytes - this.commitPos.off;
    for (const [s, size] of this.sizes) if (s >= this.commitPos.seg) n += size;
    return Math.max(0, n);
  }

  /** True when everything appended has been committed as replayed. */
  get isEmpty(): boolean {
    return this.bufferedBytes === 0 && this.commitPos.seg === this.end.seg && this.commitPos.off === this.end.off;
  }

  /**
   * Buffers one record; `onDurable` runs once it is written and fdatasync'ed (within ~syncDelayMs).
   * Returns false (nothing stored) when the spool is full or closed.
   */
  append(payload: Buffer, onDurable?: () => void): boolean {
    if (this.closed || this.pendingBytes + payload.length > this.maxBytes) return false;
    const rec = frame(payload);
    this.buffered.push(rec);
    this.bufferedBytes += rec.length;
    if (onDurable) this.waiters.push(onDurable);
    if (this.bufferedBytes >= 1024 * 1024) void this.sync().catch(() => undefined);
    else this.timer ??= setTimeout(() => {
      this.timer = null;
      this.sync().catch((err) => this.log?.error({ err }, 'spool: write failed, will retry'));
    }, this.syncDelayMs);
    return true;
  }

  /** Writes buffered records and fdatasyncs them; resolves once everything appended so far is durable. */
  async sync(): Promise<void> {
    while (this.syncing) await this.syncing.catch(() => undefined);
    if (this.buffered.length === 0) return;
    this.syncing = this.writeBuffered();
    try {
      await this.syncing;
    } finally {
      this.syncing = null;
    }
    if (this.buffered.length) await this.sync();
  }

  /**
   * Up to `max` durable records after the read position, oldest first, each with the position just
   * past it (hand that to commit() once the record is safely in Cassandra).
   */
  async read(max: number): Promise<Array<{ payload: Buffer; pos: SpoolPosition }>> {
    const out: Array<{ payload: Buffer; pos: SpoolPosition }> = [];
    let want = 1024 * 1024;
    while (out.length < max && !this.closed) {
      const { seg, off } = this.readPos;
      const limit = seg === this.end.seg ? this.end.off : (this.sizes.get(seg) ?? 0);
      if (off >= limit) {
        if (seg >= this.end.seg) break;
        this.readPos = { seg: seg + 1, off: 0 }; // finished a closed segment
        continue;
      }
      const buf = await readAt(segmentPath(this.dir, seg), off, Math.min(want, limit - off));
      const { records, bad } = parseRecords(buf, off, max - out.length);
      for (const r of records) out.push({ payload: r.payload, pos: { seg, off: r.end } });
      if (records.length) this.readPos = { seg, off: records.at(-1)!.end };
      if (bad) {
        // Durable data that fails its checksum: skip the rest of this segment rather than stall forever.
        this.log?.error({ segment: seg, offset: this.readPos.off }, 'spool: corrupt record, skipping the rest of the segment');
        this.readPos = { seg, off: limit };
      } else if (!records.length) {
        want *= 2; // a record larger than the read block
      }
    }
    return out;
  }

  /** Everything up to `pos` is in Cassandra: drop finished segments and save the cursor. */
  async commit(pos: SpoolPosition): Promise<void> {
    this.commitPos = { ...pos };
    for (const s of [...this.sizes.keys()]) {
      if (s < pos.seg) {
        this.sizes.delete(s);
        await fs.promises.rm(segmentPath(this.dir, s), { force: true });
      }
    }
    await this.saveCursor(pos);
  }

  private async saveCursor(pos: SpoolPosition): Promise<void> {
    const tmp = path.join(this.dir, 'cursor.tmp');
    await fs.promises.writeFile(tmp, JSON.stringify(pos));
    await fs.promises.rename(tmp, path.join(this.dir, 'cursor'));
  }

  /** Commits what was read (records skipped as corrupt included), so an empty read can end a replay. */
  async commitRead(): Promise<void> {
    if (this.readPos.seg !== this.commitPos.seg || this.readPos.off !== this.commitPos.off) await this.commit(this.readPos);
  }

  /** Rewinds reading to the last commit (records read but not committed are read again). */
  rewind(): void {
    this.readPos = { ...this.commitPos };
  }

  /** When everything is replayed: delete every segment and start the next append in a fresh one. */
  async reset(): Promise<void> {
    if (!this.isEmpty || this.syncing || this.closed) return;
    // Switch positions first (synchronously), so an append racing with the removals lands in the new segment.
    const old = [...this.sizes.keys()];
    const fh = this.fh;
    this.fh = null;
    this.sizes.clear();
    this.end = { seg: this.end.seg + 1, off: 0 };
    this.readPos = { ...this.end };
    this.commitPos = { ...this.end };
    await fh?.close();
    for (const s of old) await fs.promises.rm(segmentPath(this.dir, s), { force: true });
    await this.saveCursor(this.commitPos);
  }

  /** Writes what is buffered, then releases the files. Uncommitted records are replayed by the next open(). */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      await this.sync();
    } finally {
      this.closed = true;
      await this.fh?.close();
      this.fh = null;
      openDirs.delete(this.dir);
      releaseLock(this.dir);
    }
  }

  private async writeBuffered(): Promise<void> {
    const bufs = this.buffered;
    const waiters = this.waiters;
    this.buffered = [];
    this.waiters = [];
    const bytes = this.bufferedBytes;
    try {
      if (this.end.off > 0 && this.end.off + bytes > this.segmentBytes) await this.roll();
      this.fh ??= await fs.promises.open(segmentPath(this.dir, this.end.seg), 'a');
      await this.fh.write(Buffer.concat(bufs, bytes));
      await this.fh.datasync();
    } catch (err) {
      // Keep the records (in order, ahead of newer ones) for the next attempt.
      this.buffered = bufs.concat(this.buffered);
      this.waiters = waiters.concat(this.waiters);
      this.timer ??= setTimeout(() => {
        this.timer = null;
        this.sync().catch((e) => this.log?.error({ err: e }, 'spool: write failed, will retry'));
      }, 1000);
      throw err;
    }
    this.bufferedBytes -= bytes;
    this.end = { seg: this.end.seg, off: this.end.off + bytes };
    this.sizes.set(this.end.seg, this.end.off);
    for (const w of waiters) w();
  }

  private async roll(): Promise<void> {
    await this.fh?.close();
    this.fh = null;
    this.end = { seg: this.end.seg + 1, off: 0 };
    this.sizes.set(this.end.seg, 0);
  }
}

function readCursor(dir: string): SpoolPosition | undefined {
  try {
    const c = JSON.parse(fs.readFileSync(path.join(dir, 'cursor'), 'utf8')) as SpoolPosition;
    return Number.isSafeInteger(c.seg) && Number.isSafeInteger(c.off) ? c : undefined;
  } catch {
    return undefined;
  }
}

/** One process per spool dir: a pid file, taken over only when its process is gone. */
function takeLock(dir: string): void {
  const file = path.join(dir, 'lock');
  try {
    const pid = Number(fs.readFileSync(file, 'utf8'));
    if (pid && pid !== process.pid && isAlive(pid)) throw new Error(`spool ${dir} is in use by process ${pid}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.writeFileSync(file, String(process.pid));
}

function releaseLock(dir: string): void {
  fs.rmSync(path.join(dir, 'lock'), { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
