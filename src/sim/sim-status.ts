// Demo status: scrapes the server's /metrics, combines it with sim counters into one compact line.
import type { SimFleet } from './sim-driver.js';
import { simHeaders } from './sim-world.js';
import type { SimWorld } from './sim-world.js';

/** One status sample; also handed to `runDemo`'s onStatus (the test reads it). */
export interface DemoStatus {
  elapsedS: number;
  driversOnline: number;
  /** Fixes the server accepted per second since the previous sample. */
  fixesPerS: number;
  /** Live jobs by current state, as seen by the sim riders. */
  jobs: Record<string, number>;
  /** Jobs that reached a final state since the start. */
  finals: { completed: number; cancelled: number; unfulfilled: number };
  /** Dispatch offer latency since the start, ms (from the server histogram); NaN before any offer. */
  offerP50Ms: number;
  offerP99Ms: number;
  /** Trips the sim drivers completed (acked `complete`); the riders' view is `finals.completed`. */
  tripsCompleted: number;
  /** Seconds from the start of the simulation to the first job its rider saw completed; undefined before. */
  firstTripS: number | undefined;
  ridersSpawned: number;
  errors: number;
}

/** The parts of a Prometheus text exposition the demo needs. */
export interface Scrape {
  fixesAccepted: number;
  /** Cumulative histogram buckets: [upper bound s, count], ascending, +Inf last. */
  offerBuckets: Array<[number, number]>;
}

/** Shortest window for the fixes/s rate, ms. */
const RATE_WINDOW_MS = 4000;

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/;

export function parseMetrics(text: string): Scrape {
  const out: Scrape = { fixesAccepted: 0, offerBuckets: [] };
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (m[1] === 'taxiway_fixes_accepted_total') out.fixesAccepted = value;
    else if (m[1] === 'taxiway_dispatch_offer_latency_seconds_bucket') {
      const le = /le="([^"]+)"/.exec(m[2] ?? '')?.[1];
      if (le !== undefined) out.offerBuckets.push([le === '+Inf' ? Infinity : Number(le), value]);
    }
  }
  out.offerBuckets.sort((a, b) => a[0] - b[0]);
  return out;
}

/**
 * Quantile `q` of a cumulative histogram, seconds, interpolating linearly inside the bucket (as
 * Prometheus' histogram_quantile does). Past the last finite bound it answers that bound. NaN if empty.
 */
export function histogramQuantile(q: number, buckets: Array<[number, number]>): number {
  const total = buckets.length ? buckets[buckets.length - 1]![1] : 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      return count === prevCount ? le : prevLe + ((le - prevLe) * (rank - prevCount)) / (count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

/** Samples the status every call; fixes/s is the difference between consecutive scrapes. */
export class StatusSampler {
  /** Recent (time ms, fixes accepted) samples, oldest first. */
  private readonly history: Array<{ at: number; fixes: number }>;

  constructor(private readonly w: SimWorld, private readonly fleet: SimFleet, private readonly metricsUrl: string, private readonly startedAt: number) {
    // The app is fresh when the sim starts: no fix accepted yet, so the first rate is measured from here.
    this.history = [{ at: startedAt, fixes: 0 }];
  }

  async sample(): Promise<DemoStatus> {
    const res = await fetch(this.metricsUrl, { headers: simHeaders() });
    const scrape = parseMetrics(await res.text());
    const now = Date.now();
    // Rate over the newest sample at least RATE_WINDOW_MS old: a short window (the final sample right
    // after a regular one) would catch 0 or 2 of the 1 s fix ticks and swing wildly.
    let base = this.history[0]!;
    for (const h of this.history) if (now - h.at >= RATE_WINDOW_MS) base = h;
    const fixesPerS = now > base.at ? ((scrape.fixesAccepted - base.fixes) * 1000) / (now - base.at) : 0;
    this.history.push({ at: now, fixes: scrape.fixesAccepted });
    while (this.history.length > 2 && now - this.history[1]!.at >= RATE_WINDOW_MS) this.history.shift();
    const jobs: Record<string, number> = { dispatching: 0, accepted: 0, arrived: 0, in_progress: 0 };
    for (const s of this.w.jobStates.values()) jobs[s] = (jobs[s] ?? 0) + 1;
    const c = this.w.counters;
    return {
      elapsedS: (now - this.startedAt) / 1000,
      driversOnline: this.fleet.online(),
      fixesPerS,
      jobs,
      finals: { ...c.finals },
      offerP50Ms: histogramQuantile(0.5, scrape.offerBuckets) * 1000,
      offerP99Ms: histogramQuantile(0.99, scrape.offerBuckets) * 1000,
      tripsCompleted: c.tripsCompleted,
      firstTripS: this.w.firstCompletedAt === undefined ? undefined : (this.w.firstCompletedAt - this.startedAt) / 1000,
      ridersSpawned: c.ridersSpawned,
      errors: c.errors,
    };
  }
}

const ms = (v: number): string => (Number.isNaN(v) ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(0));

/** Printed once under the banner: what each part of the status line counts. */
export const STATUS_LEGEND = [
  'status line: seconds since start | drivers online | fixes the server accepted per second',
  '  | live jobs by state (dispatching: offered to drivers; to pickup: accepted, driving to the rider;',
  '    at pickup: arrived, rider boarding; riding: trip in progress)',
  '  | jobs ended since start | dispatch offer latency, median and 99th percentile (server metrics)',
  '  | riders so far | errors seen by the simulated apps',
].join('\n');

/** One status line, e.g. `[  35s] drivers 40 | fixes/s 40 | jobs: 1 dispatching, 3 to pickup, ...`. */
export function formatStatus(s: DemoStatus): string {
  const j = s.jobs;
  return [
    `[${Math.round(s.elapsedS).toString().padStart(4)}s] drivers ${s.driversOnline}`,
    `fixes/s ${s.fixesPerS.toFixed(0)}`,
    `jobs: ${j.dispatching} dispatching, ${j.accepted} to pickup, ${j.arrived} at pickup, ${j.in_progress} riding`,
    `ended: ${s.finals.completed} completed, ${s.finals.cancelled} cancelled, ${s.finals.unfulfilled} unfulfilled`,
    `offer latency p50 ${ms(s.offerP50Ms)} ms, p99 ${ms(s.offerP99Ms)} ms`,
    `riders ${s.ridersSpawned}`,
    `errors ${s.errors}`,
  ].join(' | ');
}
