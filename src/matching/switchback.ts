// Switchback schedules: which arm of a city's experiment runs in each time window, and the policy selector built on them.
import type { CityDef } from '../config/cities.js';
import { ConfigError } from '../config/config-error.js';
import type { ExperimentDef } from '../config/experiments.js';
import { mulberry32 } from '../util/random.js';
import { POLICY_NAMES } from './dispatch-policy.js';
import type { PolicyChoice, PolicyName, PolicySelector } from './dispatch-policy.js';

/**
 * One experiment's schedule: windows of `windowMs` aligned on its start (or the epoch), each given to one
 * arm by a draw from (seed, window index) weighted by the arms' shares. A pure function of the
 * configuration and the time: every node, and every restart, computes the same arm for the same instant.
 * Draws are independent per window (a randomised switchback): an arm may run several windows in a row.
 */
export class SwitchbackSchedule {
  readonly origin: number;
  /** Upper bounds of the arms' cumulative shares; the last is exactly 1. */
  private readonly cumulative: Float64Array;
  /** The PolicyChoice of each arm, built once (selectors run at every job creation). */
  readonly choices: readonly PolicyChoice[];

  constructor(readonly city: string, readonly def: ExperimentDef) {
    this.origin = def.startMs ?? 0;
    const n = def.arms.length;
    this.cumulative = new Float64Array(n);
    let sum = 0;
    def.arms.forEach((a, i) => {
      sum += a.share ?? 1 / n;
      this.cumulative[i] = sum;
    });
    this.cumulative[n - 1] = 1;
    this.choices = def.arms.map((a) => {
      const c: PolicyChoice = { policy: a.policy as PolicyName, arm: `${def.name}/${a.name}` };
      if (a.params) c.params = a.params;
      return c;
    });
  }

  get name(): string {
    return this.def.name;
  }

  /**
   * When this configuration of the experiment is in force, ms since the epoch (start inclusive, end
   * exclusive): always for one from the cities file at start; an admin change sets them on window
   * boundaries (LivePolicy), so a replaced configuration stops and its successor starts between windows.
   */
  from = -Infinity;
  until = Infinity;

  /** True when the experiment runs at `t` (ms since the epoch): start inclusive, end exclusive. */
  runs(t: number): boolean {
    return t >= this.from && t < this.until && (this.def.startMs === undefined || t >= this.def.startMs) && (this.def.endMs === undefined || t < this.def.endMs);
  }

  /** Index of the window holding `t` (ms): windows count from the origin; may be negative before it. */
  windowOf(t: number): number {
    return Math.floor((t - this.origin) / this.def.windowMs);
  }

  /** When window `w` begins, ms since the epoch. */
  windowStart(w: number): number {
    return this.origin + w * this.def.windowMs;
  }

  /** The arm (index into `def.arms`) window `w` runs. */
  armOfWindow(w: number): number {
    const u = mulberry32(windowSeed(this.def.seed, w))();
    let i = 0;
    while (u >= this.cumulative[i]!) i++;
    return i;
  }

  /** The arm running at `t`, or -1 when the experiment does not run then. */
  armAt(t: number): number {
    return this.runs(t) ? this.armOfWindow(this.windowOf(t)) : -1;
  }
}

/**
 * A 32-bit seed from (seed, window index): murmur3's finaliser over both halves, so neighbouring windows
 * get unrelated draws and window indices past 2^32 (1 s windows far in the future) still differ.
 */
function windowSeed(seed: number, w: number): number {
  const lo = w >>> 0;
  const hi = Math.floor(w / 4294967296) >>> 0;
  let h = (seed ^ Math.imul(lo, 0xcc9e2d51)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h ^= Math.imul(hi, 0x1b873593);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The schedules of every city's experiments, by city. */
export function schedulesOf(cities: readonly CityDef[]): Map<string, SwitchbackSchedule[]> {
  const m = new Map<string, SwitchbackSchedule[]>();
  for (const c of cities) if (c.experiments?.length) m.set(c.name, c.experiments.map((e) => new SwitchbackSchedule(c.name, e)));
  return m;
}

/** Every policy a city of the cities file names (its own and every arm's) is known; else a ConfigError naming the field (the file cannot see the policies). */
export function checkExperimentPolicies(cities: readonly CityDef[]): void {
  cities.forEach((c, ci) => {
    const p = c.dispatch?.policy;
    if (p !== undefined && !(POLICY_NAMES as readonly string[]).includes(p)) {
      throw new ConfigError(`TAXIWAY_CITIES: cities[${ci}].dispatch.policy ${JSON.stringify(p)} is not a dispatch policy (${POLICY_NAMES.join(', ')})`);
    }
    c.experiments?.forEach((e, ei) => e.arms.forEach((a, ai) => {
      if (!(POLICY_NAMES as readonly string[]).includes(a.policy)) {
        throw new ConfigError(`TAXIWAY_CITIES: cities[${ci}].experiments[${ei}].arms[${ai}].policy ${JSON.stringify(a.policy)} is not a dispatch policy (${POLICY_NAMES.join(', ')})`);
      }
    }));
  });
}

/**
 * The experiment selector: a job created while one of its city's experiments runs gets the arm of that
 * window (policy, params and the `<experiment>/<arm>` label); any other job gets `fallback`'s choice.
 */
export function experimentSelector(schedules: ReadonlyMap<string, readonly SwitchbackSchedule[]>, fallback: PolicySelector): PolicySelector {
  return (city, createdMs) => {
    const list = schedules.get(city);
    if (list) {
      for (const s of list) {
        const arm = s.armAt(createdMs);
        if (arm >= 0) return s.choices[arm]!;
      }
    }
    return fallback(city, createdMs);
  };
}
