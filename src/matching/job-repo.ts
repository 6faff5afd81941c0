// Job repository port: live job documents with compare-and-set commits that also move driver claims.
import type { JobRecord } from '../protocol/job-record.js';
import type { JobState } from '../protocol/messages.js';
import { DEFAULT_FINISHED_RETENTION } from '../config/job-limit-settings.js';
import type { FinishedRetention } from '../config/job-limit-settings.js';

/** Everything dispatch needs to know about a live job; stored whole, replaced whole on commit. */
export interface JobDoc {
  rec: JobRecord;
  /** Sequence number of the last job event (state change) recorded for this job. */
  seq: number;
  /** Drivers offered so far. */
  attempts: number;
  /** Driver holding the current offer, or null. */
  offer: string | null;
  /** When the current offer expires, ms since the epoch (0 when none). */
  offerExpires: number;
  /** Drivers already offered this job (or who gave it back): never offered it again. */
  tried: string[];
  /** Compare-and-set version; the first stored version is 1. */
  version: number;
}

/**
 * Claim changes applied atomically with a commit. A driver holds at most one offer and at most one
 * active job, across every node sharing the repository.
 */
export type ClaimOp =
  /** Fails the commit unless the driver holds no offer and no active job. */
  | { op: 'claimOffer'; driver: string }
  /** Releases the driver's offer if it is for this job. */
  | { op: 'releaseOffer'; driver: string }
  /** Turns the driver's offer for this job into its active job; fails the commit if it holds no such offer. */
  | { op: 'promote'; driver: string }
  /** Releases the driver's active job if it is this job. */
  | { op: 'releaseActive'; driver: string };

export type CommitResult = 'ok' | 'conflict' | 'claim_failed';

/** `create` refused because the rider already holds `maxOpenOfRider` live jobs. */
export type CreateResult = 'ok' | 'rider_cap';

/** What `list` returns: jobs the repository holds, filtered, newest created first. */
export interface JobListQuery {
  /** One state, or `live` for every non-final state; all when absent. */
  state?: JobState | 'live';
  city?: string;
  /** Most jobs in the page (the caller bounds it). */
  limit: number;
  /** `next` of the previous page; absent for the first page. */
  cursor?: string;
}
export interface JobPage {
  jobs: JobRecord[];
  /** Opaque cursor of the next page, or null when there is none. A page may hold fewer than `limit` jobs while `next` is set (the adapter bounds the work of one call). */
  next: string | null;
}

export type { FinishedRetention };
export { DEFAULT_FINISHED_RETENTION };

/**
 * Guarantees:
 * - `commit(doc, expected, claims)` stores `doc` only if the stored version equals `expected` (else
 *   'conflict') and every claim op's precondition holds (else 'claim_failed'); on 'ok' the doc and all
 *   claim changes take effect together, atomically, for every reader on every node.
 * - `create` stores a new doc (version 1); ids are unique (creating an existing id throws). With
 *   `maxOpenOfRider` it stores nothing and answers 'rider_cap' when the doc's rider already has that many
 *   live jobs in the doc's city — checked and counted atomically with the create, across every node
 *   sharing the repository (per city since 2026-12-05: a city is one Redis Cluster slot).
 * - `openJobsOf(rider, city)` counts the rider's live (non-final) jobs in `city`.
 * - Documents of final jobs are dropped after `FinishedRetention.ttlMs`, and beyond `maxKept` the
 *   oldest-finished first; live ones are always kept. Final jobs live on in storage (`JobStore`).
 * - `list` pages over the jobs held (live ones, and final ones still retained), newest created first
 *   (creation order as the repository saw it), filtered by state and city.
 * - `offerOf` / `activeOf` reflect committed claims. Offer claims also lapse by themselves after the
 *   offer's expiry plus a grace period, so a node dying mid-offer never pins a driver.
 */
export interface JobRepo {
  create(doc: JobDoc, maxOpenOfRider?: number): Promise<CreateResult>;
  openJobsOf(rider: string, city: string): Promise<number>;
  list(q: JobListQuery): Promise<JobPage>;
  get(id: string): Promise<JobDoc | undefined>;
  commit(doc: JobDoc, expectedVersion: number, claims: readonly ClaimOp[]): Promise<CommitResult>;
  offerOf(driver: string): Promise<string | undefined>;
  activeOf(driver: string): Promise<string | undefined>;
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

/** True when a doc passes a list filter. */
export function listMatch(rec: JobRecord, q: JobListQuery, isFinal: boolean): boolean {
  if (q.city !== undefined && rec.city !== q.city) return false;
  if (q.state === undefined) return true;
  return q.state === 'live' ? !isFinal : rec.state === q.state;
}

/** Grace beyond an offer's expiry before its claim lapses on its own, ms. */
export const OFFER_CLAIM_GRACE_MS = 30_000;
