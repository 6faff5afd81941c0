// Embedded storage adapter: one LMDB env holding fixes, latest job records and the job event log.
import fs from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import { clampLimit, isQueryableRange, toPoint, type FixValue, type TrackPoint } from '../fix-codec.js';
import { checkJobEvent, fromStoredEvent, toStoredEvent, type StoredJobEvent } from '../job-codec.js';
import { FixWriter, type FixEncoder, type FixWriterOptions, type FixWriterStats } from './lmdb-fix-writer.js';
import { MAX_ABS_TS, SLICE_MS, decodeChunk, sliceOf } from '../chunk-codec.js';
import { ChunkGrouper } from '../chunk-grouper.js';
import { fixBatch, type FixInput } from '../fix-batch.js';
import { MAX_RECENT_JOBS, jobParties, type JobEvent, type JobParty, type JobRecord, type Storage, type TrackPage } from '../ports.js';
import { silentLogger, type StorageLogger } from '../storage-logger.js';
import { cloneData } from '../../util/clone-data.js';

type EventKey = [job: string, seq: number];
/** A chunk of one driver's fixes within one time slice; `seq` orders writes (the earliest chunk wins on a repeated ts). */
type ChunkKey = [driver: string, slice: number, seq: number];
type PartyKey = [party: JobParty, id: string, createdTs: number, job: string];

/** `meta` key of the highest chunk write seq recorded. */
const FIX_SEQ_KEY = 'fix_seq';
/** A new run starts its write seq this far past the recorded one: more chunks than one run writes between two records. */
const SEQ_RESTART_GAP = 1e9;

export interface LmdbStorageOptions {
  logger?: StorageLogger;
  /** Retry tuning for failed fix commits (defaults suit production). */
  fixWriter?: FixWriterOptions;
}

/**
 * Layout (sub-databases of one env, so a job event and its snapshot commit in one transaction):
 * - `fix_chunks`: key [driverId, slice start ms, write seq] (ordered-binary array key: sorts by driver,
 *   then slice, then write order; "d1" never ranges into "d10"); value a binary chunk of that driver's
 *   fixes within one 60 s slice (the chunk codec both adapters share, chunk-codec.ts: 19-43 bytes a fix). Each batch
 *   handed over by ingest becomes one put per driver and slice instead of one per fix: LMDB commits
 *   about half a million puts a second on its write thread, but several million fixes in chunks.
 *   Reads merge a slice's chunks in key (write) order and keep the first copy of a ts (first write wins):
 *   a resent (driver, ts) is stored physically in its own chunk but never read back (docs/storage.md).
 * - `jobs`: key job id; value the latest JobRecord (the snapshot of the highest seq seen).
 * - `job_events`: key [jobId, seq]; value { ts, state, by, snapshot }.
 * - `jobs_by_party`: key [party, id, created_ts ms, jobId]; value true. Read backwards for newest first.
 * - `meta`: `fix_seq`, the highest chunk write seq recorded (each hand-over), so write order survives restarts.
 */
export class LmdbStorage implements Storage {
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closing: Promise<void> | undefined;
  private readonly writer: FixWriter;
  /** In-flight job-event transactions, so flush() and close() wait for them. */
  private readonly jobTxns = new Set<Promise<unknown>>();
  /** Per live job, the highest event seq this process wrote (see appendJobEvent). */
  private readonly lastSeq = new Map<string, number>();
  /**
   * Per live job in lastSeq, its parties (rider, driver) whose `jobs_by_party` entries this process has put.
   * Every event used to put them again, the same keys with the same value: two of a transition's five LMDB puts.
   */
  private readonly lastParties = new Map<string, string>();
  private droppedAfterClose = 0;
  /** Stored copies of a (driver, ts) that track reads met and discarded (first write wins). */
  private duplicates = 0;

  private constructor(
    private readonly root: RootDatabase,
    private readonly meta: Database<number, string>,
    private readonly fixes: Database<Buffer, ChunkKey>,
    private readonly jobs: Database<JobRecord, string>,
    private readonly events: Database<StoredJobEvent, EventKey>,
    private readonly byParty: Database<true, PartyKey>,
    private readonly log: StorageLogger,
    writerOpts: FixWriterOptions | undefined,
  ) {
    this.writer = new FixWriter(fixes, log, { ...writerOpts, encoder: this.chunkEncoder });
    // Past both the clock and the last seq this env recorded: a clock set back between two runs must not
    // sort a new chunk before an old one (first write wins relies on write order).
    this.seq = Math.max(Date.now() * 1000, (meta.get(FIX_SEQ_KEY) ?? 0) + SEQ_RESTART_GAP);
  }

  /** Write order of chunks, kept increasing across restarts (see the constructor). */
  private seq: number;

  private readonly grouper = new ChunkGrouper();

  /** One chunk per (driver, slice) of each batch, encoded straight from the batch's columns. */
  private readonly chunkEncoder: FixEncoder = (fixes, push) => {
    const from = this.seq;
    const left = this.grouper.encode(fixes, null, (driver, slice, chunk, n) => push([driver, slice, ++this.seq], chunk, n));
    // One small put per hand-over; if a crash loses it, SEQ_RESTART_GAP still puts the next run past these chunks.
    if (this.seq !== from) void this.meta.put(FIX_SEQ_KEY, this.seq).catch((err: unknown) => this.log.warn({ err }, 'lmdb: fix seq not recorded'));
    return left;
  };

  /** Opens (creating if needed) the env in `dir`. */
  static async open(dir: string, opts: LmdbStorageOptions = {}): Promise<LmdbStorage> {
    fs.mkdirSync(dir, { recursive: true });
    // eventTurnBatching off: lmdb-js otherwise closes a write batch with setImmediate, so under a socket flood (a
    // poll phase of seconds) commits would start once per loop turn; this way a hand-over's puts start at once.
    const root = open({ path: dir, maxDbs: 8, eventTurnBatching: false });
    try {
      const meta = root.openDB<number, string>({ name: 'meta', encoding: 'msgpack' });
      const fixes = root.openDB<Buffer, ChunkKey>({ name: 'fix_chunks', encoding: 'binary' });
      const jobs = root.openDB<JobRecord, string>({ name: 'jobs', encoding: 'msgpack' });
      const events = root.openDB<StoredJobEvent, EventKey>({ name: 'job_events', encoding: 'msgpack' });
      const byParty = root.openDB<true, PartyKey>({ name: 'jobs_by_party', encoding: 'msgpack' });
      return new LmdbStorage(root, meta, fixes, jobs, events, byParty, opts.logger ?? silentLogger, opts.fixWriter);
    } catch (err) {
      await root.close();
      throw err;
    }
  }

  backlog(): number {
    return this.writer.backlog();
  }

  appendFixes(input: FixInput): void {
    const fixes = fixBatch(input);
    if (this.state !== 'open') {
      // Warn once: during shutdown the ingest path may keep calling for a while.
      if (this.droppedAfterClose === 0) this.log.warn({ fixes: fixes.length }, 'fixes dropped: storage closed');
      this.droppedAfterClose += fixes.length;
      return;
    }
    this.writer.write(fixes);
  }

  async track(driver: string, fromMs: number, toMs: number, limit: number): Promise<TrackPage> {
    this.assertReadable();
    const n = clampLimit(limit);
    const points: TrackPoint[] = [];
    if (!isQueryableRange(fromMs, toMs)) return { points };
    // Slice by slice (a slice's chunks are adjacent keys, in write order): merge its chunks, the first write
    // of a ts winning, then
    // emit in ts order; one point past the page tells whether another page follows and where.
    const first = Number.isFinite(fromMs) ? sliceOf(Math.max(fromMs, -MAX_ABS_TS)) : -Infinity;
    const last = Number.isFinite(toMs) ? sliceOf(Math.min(toMs, MAX_ABS_TS)) + SLICE_MS : Infinity;
    let slice = NaN;
    let merged = new Map<number, FixValue>();
    const emit = (): TrackPage | undefined => {
      const tss = [...merged.keys()].sort((a, b) => a - b);
      for (const ts of tss) {
        if (points.length === n) return { points, next: ts };
        points.push(toPoint(ts, merged.get(ts)!));
      }
      merged = new Map();
      return undefined;
    };
    for (const { key, value } of this.fixes.getRange({ start: [driver, first], end: [driver, last] })) {
      if (key[0] !== driver) continue; // cannot happen with ordered-binary keys; never leak another driver
      if (key[1] !== slice) {
        const page = emit();
        if (page) return page;
        slice = key[1];
      }
      decodeChunk(key[1], value, (ts, v) => {
        if (!(ts >= fromMs && ts < toMs)) return;
        if (merged.has(ts)) this.duplicates++;
        else merged.set(ts, v);
      });
    }
    return emit() ?? { points };
  }

  async appendJobEvent(ev: JobEvent): Promise<void> {
    if (this.state !== 'open') throw new Error('storage closed');
    checkJobEvent(ev);
    const key: EventKey = [ev.job, ev.seq];
    // The writes happen later, on the write thread: copy now so caller mutations don't leak in.
    const body = cloneData(toStoredEvent(ev));
    const known = this.lastSeq.get(ev.job);
    let txn: Promise<unknown>;
    if (known !== undefined && ev.seq > known) {
      // The common case: the next event of a job this process wrote the last event of (this process is the
      // only writer of its LMDB env). Nothing to read, so no transaction callback on the event loop: the
      // puts go out as one batch, committed atomically on the write thread.
      const parties = partiesKey(body.snapshot);
      const samePartiesPut = this.lastParties.get(ev.job) === parties;
      this.noteSeq(ev.job, ev.seq, body.snapshot.state, parties);
      txn = this.root.batch(() => this.putEvent(key, body, true, samePartiesPut));
    } else {
      txn = this.root.transaction(() => {
        if (this.events.doesExist(key)) return; // idempotent on (job, seq): the first write stays
        // Events can land out of order (concurrent callers, retries): only the highest seq is "latest".
        const later = [...this.events.getKeys({ start: key, exclusiveStart: true, end: [ev.job, Infinity], limit: 1 })];
        this.putEvent(key, body, later.length === 0, false);
        if (later.length === 0) this.noteSeq(ev.job, ev.seq, body.snapshot.state, partiesKey(body.snapshot));
      });
    }
    this.jobTxns.add(txn);
    try {
      await txn;
    } catch (err) {
      // Not committed: the next event of this job puts its party entries again.
      this.lastParties.delete(ev.job);
      throw err;
    } finally {
      this.jobTxns.delete(txn);
    }
  }

  private putEvent(key: EventKey, body: StoredJobEvent, latest: boolean, partiesPut: boolean): void {
    this.events.put(key, body);
    if (!partiesPut) for (const p of jobParties(body.snapshot)) this.byParty.put([p.party, p.id, p.createdTs, key[0]], true);
    if (latest) this.jobs.put(key[0], body.snapshot);
  }

  /** Highest seq written per live job; a final job is forgotten (its late duplicates take the checked path). */
  private noteSeq(job: string, seq: number, state: string, parties: string): void {
    if (state === 'completed' || state === 'cancelled' || state === 'unfulfilled') {
      this.lastSeq.delete(job);
      this.lastParties.delete(job);
    } else {
      this.lastSeq.set(job, seq);
      this.lastParties.set(job, parties);
    }
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    this.assertReadable();
    return this.jobs.get(id);
  }

  async jobEvents(id: string): Promise<JobEvent[]> {
    this.assertReadable();
    const out: JobEvent[] = [];
    for (const { key, value } of this.events.getRange({ start: [id, 0], end: [id, Infinity] })) {
      if (key[0] === id) out.push(fromStoredEvent(id, key[1], value));
    }
    return out;
  }

  async recentJobs(party: JobParty, id: string, limit: number, beforeMs = Infinity): Promise<JobRecord[]> {
    this.assertReadable();
    const n = Math.min(clampLimit(limit), MAX_RECENT_JOBS);
    if (Number.isNaN(beforeMs)) return [];
    // Backwards from [party, id, beforeMs] (exclusive: every key of that created_ts sorts after it) to [party, id].
    const start = [party, id, Math.min(beforeMs, Number.MAX_VALUE)] as unknown as PartyKey;
    const end = [party, id] as unknown as PartyKey;
    const out: JobRecord[] = [];
    for (const key of this.byParty.getKeys({ start, end, reverse: true, limit: n })) {
      if (key[0] !== party || key[1] !== id) continue;
      const rec = this.jobs.get(key[3]);
      if (rec) out.push(rec);
    }
    return out;
  }

  async flush(): Promise<void> {
    if (this.state === 'closed') return;
    const txns = [...this.jobTxns].map((p) => p.catch(() => undefined)); // their callers see the errors
    await this.writer.settle();
    await Promise.all(txns);
    // Commits are visible before they are fsynced (overlappingSync): wait for the disk.
    await this.root.flushed;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  async healthy(): Promise<boolean> {
    if (this.state !== 'open') return false;
    try {
      this.jobs.doesExist('\u0000health'); // a cheap read proves the env and its read txn still work
      return true;
    } catch (err) {
      this.log.error({ err }, 'lmdb health read failed');
      return false;
    }
  }

  duplicatesDiscarded(): number {
    return this.duplicates;
  }

  /** Counters for metrics: fixes awaiting retry and fixes given up on (including after close). */
  stats(): FixWriterStats {
    const s = this.writer.stats();
    return { retryQueued: s.retryQueued, dropped: s.dropped + this.droppedAfterClose };
  }

  private async shutdown(): Promise<void> {
    this.state = 'closing';
    let failure: unknown;
    try {
      await this.flush();
    } catch (err) {
      failure = err;
      this.log.error({ err }, 'lmdb flush before close failed');
    }
    this.writer.stop();
    this.state = 'closed';
    await this.root.close();
    if (failure !== undefined) throw failure;
  }

  private assertReadable(): void {
    if (this.state === 'closed') throw new Error('storage closed');
  }
}

/** The job's `jobs_by_party` keys as one string (rider, driver and creation time decide them). */
function partiesKey(snapshot: JobRecord): string {
  let k = '';
  for (const p of jobParties(snapshot)) k += `${p.party}\u0000${p.id}\u0000${p.createdTs}\u0001`;
  return k;
}
