// In-memory storage adapter: reference semantics for the Storage port, used by unit tests and demos.
import { fixArray, type FixInput } from './fix-batch.js';
import { clampLimit, encodeFix, isQueryableRange, isStorableFix, toPoint, type FixValue, type TrackPoint } from './fix-codec.js';
import { checkJobEvent, fromStoredEvent, toStoredEvent, type StoredJobEvent } from './job-codec.js';
import { MAX_RECENT_JOBS, jobParties, type JobEvent, type JobParty, type JobRecord, type Storage, type TrackPage } from './ports.js';
import { silentLogger, type StorageLogger } from './storage-logger.js';
import { cloneData } from '../util/clone-data.js';

/** One driver's track as parallel arrays sorted by ts (ms), unique ts. */
interface Track {
  ts: number[];
  values: FixValue[];
}

/** Index of the first element >= x in sorted `a`. */
function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class MemoryStorage implements Storage {
  private readonly tracks = new Map<string, Track>();
  private readonly jobs = new Map<string, JobRecord>();
  /** Per job: seq -> event body; sorted on read (event logs are short). */
  private readonly events = new Map<string, Map<number, StoredJobEvent>>();
  /** Per "party\0id": job id -> created_ts (ms). */
  private readonly byParty = new Map<string, Map<string, number>>();
  private closed = false;
  private readonly log: StorageLogger;
  /** Copies of an already stored (driver, ts) discarded at write (first write wins). */
  private duplicates = 0;

  constructor(opts: { logger?: StorageLogger } = {}) {
    this.log = opts.logger ?? silentLogger;
  }

  appendFixes(input: FixInput): void {
    const fixes = fixArray(input);
    if (this.closed) {
      this.log.warn({ fixes: fixes.length }, 'fixes dropped: storage closed');
      return;
    }
    let invalid = 0;
    for (const f of fixes) {
      if (!isStorableFix(f)) {
        invalid++;
        continue;
      }
      this.insert(f.driver, f.ts, encodeFix(f));
    }
    if (invalid > 0) this.log.warn({ fixes: invalid }, 'fixes dropped: missing driver or non-finite ts/lat/lng');
  }

  async track(driver: string, fromMs: number, toMs: number, limit: number): Promise<TrackPage> {
    this.assertOpen();
    const n = clampLimit(limit);
    const points: TrackPoint[] = [];
    const tr = this.tracks.get(driver);
    if (!tr || !isQueryableRange(fromMs, toMs)) return { points };
    for (let i = lowerBound(tr.ts, fromMs); i < tr.ts.length && tr.ts[i]! < toMs; i++) {
      if (points.length === n) return { points, next: tr.ts[i]! };
      points.push(toPoint(tr.ts[i]!, tr.values[i]!));
    }
    return { points };
  }

  async appendJobEvent(ev: JobEvent): Promise<void> {
    if (this.closed) throw new Error('storage closed');
    checkJobEvent(ev);
    let log = this.events.get(ev.job);
    if (!log) this.events.set(ev.job, (log = new Map()));
    if (log.has(ev.seq)) return; // idempotent on (job, seq): the first write stays
    const body = cloneData(toStoredEvent(ev));
    log.set(ev.seq, body);
    for (const p of jobParties(body.snapshot)) {
      const key = `${p.party}\0${p.id}`;
      let jobs = this.byParty.get(key);
      if (!jobs) this.byParty.set(key, (jobs = new Map()));
      jobs.set(ev.job, p.createdTs);
    }
    // Only the highest seq is "latest", even when events arrive out of order.
    let maxSeq = 0;
    for (const s of log.keys()) if (s > maxSeq) maxSeq = s;
    if (ev.seq === maxSeq) this.jobs.set(ev.job, body.snapshot);
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    this.assertOpen();
    const rec = this.jobs.get(id);
    return rec === undefined ? undefined : cloneData(rec);
  }

  async jobEvents(id: string): Promise<JobEvent[]> {
    this.assertOpen();
    const log = this.events.get(id);
    if (!log) return [];
    return [...log.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([seq, body]) => fromStoredEvent(id, seq, cloneData(body)));
  }

  async recentJobs(party: JobParty, id: string, limit: number, beforeMs = Infinity): Promise<JobRecord[]> {
    this.assertOpen();
    const n = Math.min(clampLimit(limit), MAX_RECENT_JOBS);
    const jobs = [...(this.byParty.get(`${party}\0${id}`) ?? [])]
      .filter(([, created]) => created < beforeMs)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0))
      .slice(0, n);
    const out: JobRecord[] = [];
    for (const [job] of jobs) {
      const rec = this.jobs.get(job);
      if (rec) out.push(cloneData(rec));
    }
    return out;
  }

  duplicatesDiscarded(): number {
    return this.duplicates;
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }

  async healthy(): Promise<boolean> {
    return !this.closed;
  }

  private insert(driver: string, ts: number, v: FixValue): void {
    let tr = this.tracks.get(driver);
    if (!tr) this.tracks.set(driver, (tr = { ts: [], values: [] }));
    const last = tr.ts.length - 1;
    // Fixes mostly arrive in time order: append without searching.
    if (last < 0 || tr.ts[last]! < ts) {
      tr.ts.push(ts);
      tr.values.push(v);
      return;
    }
    const i = lowerBound(tr.ts, ts);
    if (tr.ts[i] === ts) {
      this.duplicates++; // same (driver, ts): the first write stays, the copy is not stored
      return;
    }
    tr.ts.splice(i, 0, ts);
    tr.values.splice(i, 0, v);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('storage closed');
  }
}
