// Each city's dispatch policy and switchback experiments as the live catalog says them now: the policy selector that follows admin changes without a restart.
import type { CityDef } from '../config/cities.js';
import { ConfigError } from '../config/config-error.js';
import type { Clock } from '../util/clock.js';
import { POLICY_NAMES } from './dispatch-policy.js';
import type { PolicyChoice, PolicyName, PolicySelector } from './dispatch-policy.js';
import { SwitchbackSchedule } from './switchback.js';

/** Experiment configurations kept per city (older ones answer for jobs created under them; a day of changes is plenty). */
const VERSIONS_KEPT = 16;

/** A city's experiments configuration, in force from `from` (ms since the epoch) until the next one's. */
interface ExperimentVersion {
  from: number;
  schedules: readonly SwitchbackSchedule[];
  /** The definitions, to tell a change from a rewrite of the same experiments. */
  json: string;
}

/** The choice outside experiments, one object per policy (selectors run at every dispatch step). */
const PLAIN: Record<PolicyName, PolicyChoice> = { greedy: { policy: 'greedy' }, batched: { policy: 'batched' } };

/** Whether `name` is a dispatch policy. */
export function isPolicyName(name: string): name is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(name);
}

/** TAXIWAY_DISPATCH_POLICY checked: the policy of cities that name none (ConfigError naming the setting otherwise). */
export function fallbackPolicy(name: string): PolicyName {
  if (!isPolicyName(name)) throw new ConfigError(`TAXIWAY_DISPATCH_POLICY=${name}: not a dispatch policy (${POLICY_NAMES.join(', ')})`);
  return name;
}

/** Each policy name in a city (its `dispatch.policy` and every experiment arm's) is known; else a message naming the field. */
export function unknownPolicy(c: CityDef, where: string): string | undefined {
  const p = c.dispatch?.policy;
  if (p !== undefined && !isPolicyName(p)) return `${where}.dispatch.policy ${JSON.stringify(p)} is not a dispatch policy (${POLICY_NAMES.join(', ')})`;
  for (const [ei, e] of (c.experiments ?? []).entries()) {
    for (const [ai, a] of e.arms.entries()) {
      if (!isPolicyName(a.policy)) return `${where}.experiments[${ei}].arms[${ai}].policy ${JSON.stringify(a.policy)} is not a dispatch policy (${POLICY_NAMES.join(', ')})`;
    }
  }
  return undefined;
}

/**
 * The policy selector of a node, fed by catalog changes (`cityChanged`), so a city's `dispatch.policy`
 * and `experiments` apply without a restart:
 * - a policy change applies to every job of the city from now on, including jobs already searching (the
 *   dispatcher hands them over, see Dispatcher.cityChanged);
 * - an experiments change applies from the next window boundary (of the new experiment's windows; of the
 *   old one's when the experiment is removed), so no window mixes two configurations; a job keeps the arm of
 *   the configuration it was created under (its recorded `arm`), also after a later change.
 * Nodes apply a change within about a second of each other, so a change landing that close to a window
 * boundary may start one window later on some node.
 */
export class LivePolicy {
  private readonly policies = new Map<string, PolicyName>();
  private readonly versions = new Map<string, ExperimentVersion[]>();
  private readonly scheduleListeners: Array<(s: SwitchbackSchedule) => void> = [];

  /** `cities`: the catalog at start (their experiments apply from the start of time); `fallback`: TAXIWAY_DISPATCH_POLICY. */
  constructor(cities: readonly CityDef[], private readonly fallback: PolicyName, private readonly clock: Pick<Clock, 'now'>) {
    for (const c of cities) {
      this.setPolicy(c);
      if (c.experiments?.length) this.versions.set(c.name, [version(c, -Infinity)]);
    }
  }

  /** The selector (a pure function of the city, the creation time and the catalog as applied here). */
  readonly select: PolicySelector = (city, createdMs) => {
    const list = this.versions.get(city);
    if (list !== undefined) {
      for (let i = list.length - 1; i >= 0; i--) {
        const v = list[i]!;
        if (v.from > createdMs) continue;
        // Each schedule runs only while its configuration is in force (SwitchbackSchedule.from/until).
        for (const s of v.schedules) {
          const arm = s.armAt(createdMs);
          if (arm >= 0) return s.choices[arm]!;
        }
        break;
      }
    }
    return this.policyChoice(city);
  };

  /** Every schedule known now (current and past configurations), oldest first. */
  schedules(): SwitchbackSchedule[] {
    const out: SwitchbackSchedule[] = [];
    for (const list of this.versions.values()) for (const v of list) out.push(...v.schedules);
    return out;
  }

  /** Hear each schedule a catalog change adds (the experiment report tracks it). */
  addScheduleListener(l: (s: SwitchbackSchedule) => void): void {
    this.scheduleListeners.push(l);
  }

  /** A city was created, replaced or deleted in the catalog (after: undefined). Returns whether its policy or experiments changed. */
  cityChanged(name: string, after: CityDef | undefined): boolean {
    const before = this.policyChoice(name).policy;
    if (after === undefined) this.policies.delete(name);
    else this.setPolicy(after);
    const policyChanged = this.policyChoice(name).policy !== before;
    const list = this.versions.get(name) ?? [];
    const cur = list[list.length - 1];
    const json = JSON.stringify(after?.experiments ?? []);
    if ((cur?.json ?? '[]') === json) return policyChanged;
    const now = this.clock.now();
    // The new experiment starts at its next window boundary; a removed one finishes its current window.
    const grid = after?.experiments?.length ? version(after, now).schedules[0] : cur?.schedules.find((s) => s.runs(now));
    const from = grid ? grid.windowStart(grid.windowOf(now) + 1) : now;
    // A change not yet in force is replaced by this one (nothing was created under it).
    while (list.length > 0 && list[list.length - 1]!.from >= from) list.pop();
    const prev = list[list.length - 1];
    if (prev) for (const s of prev.schedules) s.until = from;
    const v = after ? version(after, from) : { from, schedules: [], json };
    list.push(v);
    while (list.length > VERSIONS_KEPT) list.shift();
    this.versions.set(name, list);
    for (const s of v.schedules) for (const l of this.scheduleListeners) l(s);
    return true;
  }

  private policyChoice(city: string): PolicyChoice {
    return PLAIN[this.policies.get(city) ?? this.fallback];
  }

  private setPolicy(c: CityDef): void {
    const p = c.dispatch?.policy;
    if (p !== undefined && isPolicyName(p)) this.policies.set(c.name, p);
    else this.policies.delete(c.name);
  }
}

function version(c: CityDef, from: number): ExperimentVersion {
  const schedules = (c.experiments ?? []).map((e) => {
    const s = new SwitchbackSchedule(c.name, e);
    s.from = from;
    return s;
  });
  return { from, schedules, json: JSON.stringify(c.experiments ?? []) };
}
