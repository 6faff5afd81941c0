// Outcome of one policy's run of the marketplace simulator: the counts kept during the run and the summary the report prints.

/** Counts and samples kept while a run goes (ms and plain counts). */
export interface RunTally {
  jobs: number;
  completed: number;
  cancelled: number;
  unfulfilled: number;
  /** Jobs still live when the run had to stop (0 unless the drain cap was hit). */
  live: number;
  offers: number;
  declines: number;
  /** Request → driver arrived at the pickup, ms, per job whose driver arrived. */
  pickupWaitsMs: number[];
  /** Busy driver time (accept → job final) before the end of demand, summed, ms. */
  busyMs: number;
  /** Invariant breaches seen: a driver given a second job, or a second offer while holding one. */
  doubleJob: number;
  doubleOffer: number;
  /** Virtual time the run needed to end every job, ms after the start. */
  endMs: number;
}

/** One row of `--json` (the shape; times in seconds, rates 0-1). */
export interface PolicyResult {
  policy: string;
  jobs: number;
  fulfilment: number;
  pickup_wait_mean_s: number;
  pickup_wait_p50_s: number;
  pickup_wait_p90_s: number;
  offers_per_job: number;
  utilisation: number;
  wall_s: number;
}

/** The value at quantile q (0-1) of sorted values, nearest rank; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const round = (v: number, digits: number): number => (Number.isFinite(v) ? Number(v.toFixed(digits)) : v);

/** Summarise a run: `drivers` × `demandMs` is the supply utilisation is measured against. */
export function summarise(policy: string, t: RunTally, drivers: number, demandMs: number, wallS: number): PolicyResult {
  const waits = t.pickupWaitsMs.map((w) => w / 1000).sort((a, b) => a - b);
  const mean = waits.length ? waits.reduce((a, b) => a + b, 0) / waits.length : NaN;
  const jobs = t.jobs;
  return {
    policy,
    jobs,
    fulfilment: round(jobs ? t.completed / jobs : NaN, 4),
    pickup_wait_mean_s: round(mean, 1),
    pickup_wait_p50_s: round(quantile(waits, 0.5), 1),
    pickup_wait_p90_s: round(quantile(waits, 0.9), 1),
    offers_per_job: round(jobs ? t.offers / jobs : NaN, 3),
    utilisation: round(t.busyMs / (drivers * demandMs), 4),
    wall_s: round(wallS, 2),
  };
}
