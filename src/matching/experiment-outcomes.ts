// Experiment outcomes: folds the job changes and offers every node hears into per-window aggregates of each running experiment.
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import { DriverStatus } from '../fleet/driver-status.js';
import type { Metrics } from '../observability/metrics.js';
import { decodeFrame } from '../protocol/codec.js';
import { frameTypeBytes, frameTypeIs } from '../protocol/frame-type.js';
import { isFinalState } from '../protocol/job-record.js';
import type { JobRecord } from '../protocol/job-record.js';
import type { StateTable } from '../storage/live-state.js';
import type { Clock } from '../util/clock.js';
import { COUNTS, ExperimentWindows, MEASURES } from './experiment-windows.js';
import type { Count, Measure, StoredWindow } from './experiment-windows.js';
import type { SwitchbackSchedule } from './switchback.js';

/** How often driver utilisation is sampled, ms: often enough for 1 s test windows, a few µs per city per sample. */
export const UTILISATION_SAMPLE_MS = 1000;

/** One running experiment: its schedule and its windows. */
export interface TrackedExperiment {
  schedule: SwitchbackSchedule;
  windows: ExperimentWindows;
  /** Key prefix of its windows in the persisted table: city, name and everything that shapes the schedule. */
  key: string;
}

export interface ExperimentOutcomesDeps {
  schedules: ReadonlyMap<string, readonly SwitchbackSchedule[]>;
  fleet: FleetRegistry;
  metrics: Metrics;
  clock: Pick<Clock, 'now'>;
  /** Windows kept per experiment (TAXIWAY_EXPERIMENT_WINDOWS_KEPT). */
  windowsKept: number;
  /** Live jobs whose offers are tracked (TAXIWAY_EXPERIMENT_JOBS_TRACKED); past it the oldest are dropped. */
  jobsTracked: number;
  /**
   * Where windows are written through, once a second, and read back at start (embedded mode: the LMDB
   * live state, so a restart keeps the report). Absent: in memory only.
   */
  persist?: StateTable<StoredWindow>;
}

/** What is known of a live experiment job beyond its record: offers made so far, first offer time, ETA at accept. */
interface LiveJob {
  offers: number;
  firstOfferMs: number;
  etaAtAcceptS: number;
}

const OFFER = frameTypeBytes('offer');
const C = Object.fromEntries(COUNTS.map((c, i) => [c, i])) as Record<Count, number>;
const M = Object.fromEntries(MEASURES.map((m, i) => [m, i])) as Record<Measure, number>;

/**
 * A delivery target (bus/deliveries.ts): every node hears every job change and every frame sent to a
 * driver, so every node folds the whole city's experiment jobs, whichever node dispatched them. A job
 * counts in the window it was created in (its arm's), once, when it ends; the utilisation samples count
 * in the window running when they are taken. Memory is bounded: `windowsKept` windows per experiment and
 * at most `jobsTracked` live jobs.
 */
export class ExperimentOutcomes {
  readonly experiments: TrackedExperiment[] = [];
  private readonly byArm = new Map<string, { exp: TrackedExperiment; arm: number }>();
  private readonly live = new Map<string, LiveJob>();
  private timer: NodeJS.Timeout | null = null;

  private started = false;

  constructor(private readonly d: ExperimentOutcomesDeps) {
    for (const list of d.schedules.values()) for (const schedule of list) this.add(schedule);
    this.restore();
  }

  /**
   * Report on an experiment configured after start (an admin change of the city's `experiments`). One
   * shaped exactly like a tracked one is the same experiment (nothing changes); a new shape under the same
   * name gets its own windows, and the arms' labels point to it from now on.
   */
  trackSchedule(schedule: SwitchbackSchedule): void {
    const same = this.experiments.find((e) => e.key === keyOf(schedule));
    if (same) {
      // The same experiment again (e.g. put back after a removal): its windows go on, in force as the new one says.
      same.schedule = schedule;
      return;
    }
    this.add(schedule);
    if (this.started) this.start();
  }

  private add(schedule: SwitchbackSchedule): void {
    const exp = { schedule, windows: new ExperimentWindows(this.d.windowsKept), key: keyOf(schedule) };
    this.experiments.push(exp);
    schedule.choices.forEach((c, arm) => this.byArm.set(`${schedule.city}\n${c.arm!}`, { exp, arm }));
  }

  /** Read the persisted windows back; entries of experiments no longer configured alike (or malformed) are removed. */
  private restore(): void {
    const table = this.d.persist;
    if (!table) return;
    const stale: string[] = [];
    for (const [key, v] of table.entries()) {
      const cut = key.lastIndexOf('\n');
      const exp = this.experiments.find((e) => e.key === key.slice(0, cut + 1));
      const w = Number(key.slice(cut + 1));
      if (!exp || !Number.isSafeInteger(w) || !exp.windows.restore(w, v)) stale.push(key);
    }
    for (const k of stale) table.remove(k);
    for (const e of this.experiments) e.windows.takeChanges();
  }

  /** Write the windows changed since the last call through to the table, and drop the evicted ones. */
  persistChanges(): void {
    const table = this.d.persist;
    if (!table) return;
    for (const e of this.experiments) {
      const { changed, evicted } = e.windows.takeChanges();
      for (const w of evicted) table.remove(e.key + w);
      for (const w of changed) {
        const v = e.windows.stored(w);
        if (v) table.put(e.key + w, v);
      }
    }
  }

  /** Sample utilisation every UTILISATION_SAMPLE_MS (nothing to do without experiments). */
  start(): void {
    this.started = true;
    if (this.experiments.length === 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.sampleUtilisation(this.d.clock.now());
      this.persistChanges();
    }, UTILISATION_SAMPLE_MS);
    this.timer.unref();
  }

  /** Stop sampling and write the last changes through (before the live state closes). */
  stop(): void {
    this.started = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.persistChanges();
  }

  /** Delivery hook: a job changed state (its record right after). */
  jobChanged(rec: JobRecord): void {
    if (rec.arm === undefined) return;
    const at = this.byArm.get(`${rec.city}\n${rec.arm}`);
    if (!at) {
      this.d.metrics.experiments.untracked.inc({ reason: 'unknown_arm' });
      return;
    }
    let job = this.live.get(rec.id);
    if (!isFinalState(rec.state)) {
      if (!job) {
        // Tracked from its first change this node hears; a job already under way when the node started has no offer count.
        if (rec.state !== 'dispatching' || rec.times.accepted !== undefined) return;
        job = { offers: 0, firstOfferMs: NaN, etaAtAcceptS: NaN };
        this.track(rec.id, job);
      }
      if (rec.state === 'accepted' && rec.eta_s !== undefined) job.etaAtAcceptS = rec.eta_s;
      return;
    }
    this.live.delete(rec.id);
    this.ended(rec, at.exp, at.arm, job);
  }

  /** Delivery hook: a frame for a driver; an offer adds to its job's offer count. */
  toDriver(_driver: string, frame: Buffer): void {
    if (this.live.size === 0 || !frameTypeIs(frame, OFFER)) return;
    const id = decodeFrame(frame).job;
    const job = typeof id === 'string' ? this.live.get(id) : undefined;
    if (!job) return;
    job.offers++;
    if (Number.isNaN(job.firstOfferMs)) job.firstOfferMs = this.d.clock.now();
  }

  /** Add the busy and online driver counts of every city with a running experiment to its current window. */
  sampleUtilisation(now: number): void {
    for (const exp of this.experiments) {
      const s = exp.schedule;
      const arm = s.armAt(now);
      const fleet = this.d.fleet.city(s.city);
      if (arm < 0 || !fleet) continue;
      const status = fleet.status;
      let busy = 0, online = 0;
      for (let i = 0, n = fleet.slotLimit; i < n; i++) {
        const st = status[i];
        if (st === DriverStatus.busy) busy++;
        if (st !== DriverStatus.offline) online++;
      }
      const w = s.windowOf(now);
      exp.windows.count(w, C.busy_samples, busy);
      exp.windows.count(w, C.online_samples, online);
      if (online > 0) this.d.metrics.experiments.utilisation.set(this.labels(exp, arm), busy / online);
    }
  }

  private track(id: string, job: LiveJob): void {
    this.live.set(id, job);
    if (this.live.size <= this.d.jobsTracked) return;
    // Maps iterate in insertion order: the first key is the longest-tracked job.
    this.live.delete(this.live.keys().next().value!);
    this.d.metrics.experiments.untracked.inc({ reason: 'evicted' });
  }

  private ended(rec: JobRecord, exp: TrackedExperiment, arm: number, job: LiveJob | undefined): void {
    const s = exp.schedule;
    const w = s.windowOf(rec.created_ts);
    // A job whose arm is not its window's (the schedule changed across a restart) would mix the arms: left out.
    if (s.armOfWindow(w) !== arm) {
      this.d.metrics.experiments.untracked.inc({ reason: 'unknown_arm' });
      return;
    }
    const win = exp.windows;
    if (!win.count(w, C.jobs)) {
      this.d.metrics.experiments.untracked.inc({ reason: 'too_old' });
      return;
    }
    const m = this.d.metrics.experiments;
    const labels = this.labels(exp, arm);
    m.jobs.inc({ ...labels, state: rec.state });
    const t = rec.times;
    if (t.accepted !== undefined) {
      win.count(w, C.fulfilled);
      m.fulfilled.inc(labels);
      const s2a = Math.max(0, t.accepted - rec.created_ts) / 1000;
      win.observe(w, M.time_to_accept_s, s2a);
      m.timeToAccept.observe(labels, s2a);
      if (t.arrived !== undefined && t.arrived >= t.accepted) {
        const wait = (t.arrived - t.accepted) / 1000;
        win.observe(w, M.pickup_wait_s, wait);
        m.pickupWait.observe(labels, wait);
      }
    }
    if (rec.state === 'cancelled') win.count(w, C.rider_cancelled); // only a rider cancels, and only before the trip starts
    if (!job) return;
    win.observe(w, M.offers_per_job, job.offers);
    m.offers.inc(labels, job.offers);
    if (!Number.isNaN(job.firstOfferMs)) {
      const first = Math.max(0, job.firstOfferMs - rec.created_ts) / 1000;
      win.observe(w, M.time_to_first_offer_s, first);
      m.timeToFirstOffer.observe(labels, first);
    }
    if (!Number.isNaN(job.etaAtAcceptS)) {
      win.observe(w, M.pickup_eta_s, job.etaAtAcceptS);
      m.pickupEta.observe(labels, job.etaAtAcceptS);
    }
  }

  private labels(exp: TrackedExperiment, arm: number): { city: string; experiment: string; arm: string } {
    return { city: exp.schedule.city, experiment: exp.schedule.name, arm: exp.schedule.def.arms[arm]!.name };
  }
}

/** Key prefix of an experiment's windows: city, name and everything that shapes the schedule. */
function keyOf(schedule: SwitchbackSchedule): string {
  const def = schedule.def;
  const shape = [def.windowMs, def.seed, schedule.origin, ...def.arms.map((a) => `${a.name}:${a.share ?? ''}`)].join(',');
  return `${schedule.city}\n${def.name}\n${shape}\n`;
}
