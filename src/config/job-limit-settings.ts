// Settings of the limits on riders' job requests and of the job repository's retention of final jobs.
import { SETTINGS } from './settings.js';

/** A token bucket: `ratePerS` requests a second sustained, `burst` at once; rate 0 means no limit. */
export interface RateSettings {
  ratePerS: number;
  burst: number;
}

/** Limits on job creation and cancellation (both draw on the same budgets). */
export interface JobLimitSettings {
  /** Per rider (the token's subject), on each node. */
  perRider: RateSettings;
  /** Per client address (IPv6: per /64), on each node. */
  perIp: RateSettings;
  /** Most live (not final) jobs one rider may hold, across every node. */
  maxOpenPerRider: number;
}

/** How long and how many final jobs a job repository keeps beside the live ones (they live in storage). */
export interface FinishedRetention {
  /** A final job is dropped this long after it ended, ms. */
  ttlMs: number;
  /** At most this many final jobs are kept; the oldest-finished go first. */
  maxKept: number;
}

/** The flag table's defaults. */
export const DEFAULT_FINISHED_RETENTION: FinishedRetention = {
  ttlMs: SETTINGS.TAXIWAY_FINISHED_JOB_TTL_MS.def,
  maxKept: SETTINGS.TAXIWAY_FINISHED_JOBS_KEPT.def,
};
