// Cassandra partition buckets: fixes by UTC day, the jobs-by-party index by 30-day period.

/** Partition bucket of fixes: one UTC day, ms. Every storable ts (|ts| <= MAX_ABS_TS) has a day inside int32. */
export const DAY_MS = 86_400_000;
/** Partition bucket of the jobs-by-party index: 30 days, ms. */
export const PERIOD_MS = 30 * DAY_MS;

export const dayOf = (ts: number): number => Math.floor(ts / DAY_MS);
export const periodOf = (ts: number): number => Math.floor(ts / PERIOD_MS);
