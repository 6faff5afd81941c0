// The job as the protocol shows it (docs/protocol.md, "Jobs"): the record, its events, and which states are final.
import type { EpochMs, EtaSeconds, JobId, JobState, LatLng, PrincipalId, ProductName } from './messages.js';

/** For each state the job entered, the last time it entered it, ms since the epoch (taxiway extension). */
export type JobTimes = Partial<Record<JobState, EpochMs>>;

/**
 * A job record as HTTP bodies and storage carry it. Times in ms since the epoch, coordinates in degrees.
 * Its schema in docs/openapi.json is generated from this type (`npm run specs`).
 */
export interface JobRecord {
  id: JobId;
  state: JobState;
  rider: PrincipalId;
  /** The assigned driver's id, or null. */
  driver: PrincipalId | null;
  pickup: LatLng;
  dropoff: LatLng | null;
  product: ProductName;
  /** The served city containing the pickup (taxiway extension). */
  city: string;
  created_ts: EpochMs;
  updated_ts: EpochMs;
  /** Seconds; absent when there is no estimate (see docs/protocol.md for when it is which ETA). */
  eta_s?: EtaSeconds;
  /** For each state the job entered, the last time it entered it (taxiway extension). */
  times: JobTimes;
  /**
   * The switchback experiment arm the job was created in, `<experiment>/<arm>` (taxiway extension);
   * absent when no experiment ran in its city at its creation. Set once, at creation.
   */
  arm?: string;
}

/** One job event: the state the job entered, when, and the job as it was right after. */
export interface JobEvent {
  job: string;
  /** Per-job sequence number, starting at 1; (job, seq) is unique. */
  seq: number;
  /** When the job entered `state`, ms since the epoch. */
  ts: number;
  state: JobState;
  /** Who caused it: "rider", "driver:<id>", "dispatch", "system". */
  by: string;
  snapshot: JobRecord;
}

/** States a job never leaves. */
export const FINAL_STATES: ReadonlySet<JobState> = new Set<JobState>(['completed', 'cancelled', 'unfulfilled']);

/** True when `s` (any value, e.g. a state read from a frame or a store) is a final job state. */
export function isFinalState(s: unknown): boolean {
  return FINAL_STATES.has(s as JobState);
}
