// Persistence ports: location history and job records. Adapters: LMDB (embedded), Cassandra (cluster).
import type { FixInput, StoredFix } from './fix-batch.js';
import type { JobEvent, JobRecord } from '../protocol/job-record.js';

// The fix type lives with its columnar batch (fix-batch.ts, which imports nothing from here); re-exported
// because it is part of this port's vocabulary.
export type { StoredFix };

/** A page of a driver's track, oldest first. `next` is the `from` (ms) to continue with, when more remain. */
export interface TrackPage {
  /** [ts, lat, lng, hdg, spd, acc]; absent optional values are null. */
  points: Array<[number, number, number, number | null, number | null, number | null]>;
  next?: number;
}

/** The job record and event types live with the protocol; storage stores them as they are. */
export type { JobEvent, JobRecord };

/**
 * Location history. Guarantees:
 * - `appendFixes` takes ownership of nothing (it copies what it needs before returning, so a FixBatch may
 *   be cleared and refilled at once) and never throws for storage outages: the adapter buffers and retries; fixes are durable once `flush()` resolves.
 * - Writing the same (driver, ts) twice stores one fix (idempotent; the last write wins).
 * - `track` returns fixes with from <= ts < to, ordered by ts ascending, at most `limit`.
 */
export interface HistoryStore {
  appendFixes(fixes: FixInput): void;
  /**
   * Fixes accepted by `appendFixes` that are held in memory and not yet durable. Ingest sheds new fixes
   * while this is above its limit, so an overloaded node pushes back instead of queueing without end.
   * Adapters that spill to disk themselves (Cassandra's spool) may leave it out.
   */
  backlog?(): number;
  track(driver: string, fromMs: number, toMs: number, limit: number): Promise<TrackPage>;
}

/**
 * Job records and their event log. Guarantees:
 * - `appendJobEvent` stores the event and the snapshot as the job's latest record, atomically per event;
 *   appending the same (job, seq) twice stores it once.
 * - `jobEvents` returns a job's events in seq order.
 * - `getJob` returns the latest snapshot, or undefined.
 */
export interface JobStore {
  appendJobEvent(ev: JobEvent): Promise<void>;
  getJob(id: string): Promise<JobRecord | undefined>;
  jobEvents(id: string): Promise<JobEvent[]>;
}

/** Whose jobs a recent-jobs query lists. */
export type JobParty = 'rider' | 'driver';

/** Most jobs one `recentJobs` call returns. */
export const MAX_RECENT_JOBS = 100;

/**
 * Jobs by rider and by driver. Guarantees:
 * - a job is listed under its rider and under every driver its snapshots ever named;
 * - `recentJobs` returns the latest records of jobs with created_ts < beforeMs (default: all), newest
 *   created first (equal created_ts: job id descending), at most `limit` (clamped to 1..100).
 */
export interface JobHistory {
  recentJobs(party: JobParty, id: string, limit: number, beforeMs?: number): Promise<JobRecord[]>;
}

/**
 * The index entries of one job event, as every adapter derives them: the job under its rider and
 * under the driver its snapshot names, at its created_ts (ms). Empty when the snapshot lacks them.
 */
export function jobParties(snapshot: JobRecord): Array<{ party: JobParty; id: string; createdTs: number }> {
  const s = snapshot as Partial<JobRecord>;
  if (!Number.isSafeInteger(s.created_ts)) return [];
  const out: Array<{ party: JobParty; id: string; createdTs: number }> = [];
  if (typeof s.rider === 'string' && s.rider) out.push({ party: 'rider', id: s.rider, createdTs: s.created_ts! });
  if (typeof s.driver === 'string' && s.driver) out.push({ party: 'driver', id: s.driver, createdTs: s.created_ts! });
  return out;
}

/** Lifecycle shared by storage adapters. */
export interface StorageLifecycle {
  /** Resolves once every write accepted so far is durable. */
  flush(): Promise<void>;
  /** Flushes, then releases resources. Idempotent. */
  close(): Promise<void>;
  /** True when the backend answers. */
  healthy(): Promise<boolean>;
}

export type Storage = HistoryStore & JobStore & JobHistory & StorageLifecycle;
