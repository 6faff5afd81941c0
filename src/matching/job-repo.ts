// Job repository port: live job documents with compare-and-set commits that also move driver claims.
import type { JobRecord } from '../protocol/job-record.js';

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

/**
 * Guarantees:
 * - `commit(doc, expected, claims)` stores `doc` only if the stored version equals `expected` (else
 *   'conflict') and every claim op's precondition holds (else 'claim_failed'); on 'ok' the doc and all
 *   claim changes take effect together, atomically, for every reader on every node.
 * - `create` stores a new doc (version 1); ids are unique (creating an existing id throws).
 * - Documents of final jobs may be dropped after `finishedTtlMs`; live ones are kept.
 * - `offerOf` / `activeOf` reflect committed claims. Offer claims also lapse by themselves after the
 *   offer's expiry plus a grace period, so a node dying mid-offer never pins a driver.
 */
export interface JobRepo {
  create(doc: JobDoc): Promise<void>;
  get(id: string): Promise<JobDoc | undefined>;
  commit(doc: JobDoc, expectedVersion: number, claims: readonly ClaimOp[]): Promise<CommitResult>;
  offerOf(driver: string): Promise<string | undefined>;
  activeOf(driver: string): Promise<string | undefined>;
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

/** Grace beyond an offer's expiry before its claim lapses on its own, ms. */
export const OFFER_CLAIM_GRACE_MS = 30_000;
