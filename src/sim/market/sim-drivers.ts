// The simulated drivers' own state: where each is heading (straight line, at the ETA's duration), which job it serves, how long it was busy.

/** What a simulated driver is doing. */
export const Phase = { idle: 0, toPickup: 1, boarding: 2, toDropoff: 3 } as const;
export type PhaseCode = (typeof Phase)[keyof typeof Phase];

/**
 * Drivers `0..n-1` in columns (no object per driver). A driver moves from (lat0, lng0) at t0 to
 * (lat1, lng1) at t1 in a straight line at constant speed (degrees, ms); no road routing: the ETA model
 * already says how long the leg takes. `gen` counts plan changes: an event planned under an older
 * generation (the rider cancelled meanwhile) is stale and ignored.
 */
export class SimDrivers {
  readonly n: number;
  readonly ids: string[];
  private readonly lat0: Float64Array;
  private readonly lng0: Float64Array;
  private readonly t0: Float64Array;
  private readonly lat1: Float64Array;
  private readonly lng1: Float64Array;
  private readonly t1: Float64Array;
  readonly phase: Uint8Array;
  readonly gen: Uint32Array;
  /** Job served (accepted until final), or null. */
  readonly job: Array<string | null>;
  /** Job whose offer the driver holds unanswered, or null. */
  readonly offer: Array<string | null>;
  /** When the current busy stretch began, ms (NaN when free). */
  private readonly busyFrom: Float64Array;
  /** Busy time inside [0, until) of the run, summed, ms. */
  busyMs = 0;

  /** @param starts [lat, lng] per driver, degrees; @param t ms */
  constructor(starts: Float64Array, t: number) {
    const n = (this.n = starts.length / 2);
    this.ids = Array.from({ length: n }, (_, i) => `d${i}`);
    this.lat0 = new Float64Array(n);
    this.lng0 = new Float64Array(n);
    this.lat1 = new Float64Array(n);
    this.lng1 = new Float64Array(n);
    this.t0 = new Float64Array(n).fill(t);
    this.t1 = new Float64Array(n).fill(t);
    for (let i = 0; i < n; i++) {
      this.lat0[i] = this.lat1[i] = starts[2 * i]!;
      this.lng0[i] = this.lng1[i] = starts[2 * i + 1]!;
    }
    this.phase = new Uint8Array(n);
    this.gen = new Uint32Array(n);
    this.job = new Array<string | null>(n).fill(null);
    this.offer = new Array<string | null>(n).fill(null);
    this.busyFrom = new Float64Array(n).fill(NaN);
  }

  /** Index of driver `id` (`d<i>`), or -1. */
  indexOf(id: string): number {
    const i = id.charCodeAt(0) === 100 ? Number(id.slice(1)) : NaN;
    return Number.isInteger(i) && i >= 0 && i < this.n ? i : -1;
  }

  lat(i: number, t: number): number {
    return this.lerp(this.lat0[i]!, this.lat1[i]!, i, t);
  }

  lng(i: number, t: number): number {
    return this.lerp(this.lng0[i]!, this.lng1[i]!, i, t);
  }

  private lerp(a: number, b: number, i: number, t: number): number {
    const t0 = this.t0[i]!, t1 = this.t1[i]!;
    if (t >= t1 || t1 <= t0) return b;
    if (t <= t0) return a;
    return a + ((b - a) * (t - t0)) / (t1 - t0);
  }

  /** Head from where the driver is at `t` to (lat, lng), arriving at `arriveAt` (ms). */
  moveTo(i: number, t: number, lat: number, lng: number, arriveAt: number): void {
    this.lat0[i] = this.lat(i, t);
    this.lng0[i] = this.lng(i, t);
    this.t0[i] = t;
    this.lat1[i] = lat;
    this.lng1[i] = lng;
    this.t1[i] = arriveAt;
  }

  /** Stop where the driver is at `t` (its plan was cancelled); returns the new generation. */
  stop(i: number, t: number): number {
    this.moveTo(i, t, this.lat(i, t), this.lng(i, t), t);
    this.phase[i] = Phase.idle;
    return ++this.gen[i]!;
  }

  /** A busy stretch (accepted job) begins at `t`, ms. */
  busyStart(i: number, t: number): void {
    this.busyFrom[i] = t;
  }

  /** The busy stretch ends at `t`; only its part before `until` (the end of demand, ms) counts. */
  busyEnd(i: number, t: number, until: number): void {
    const from = this.busyFrom[i]!;
    if (Number.isNaN(from)) return;
    this.busyMs += Math.max(0, Math.min(t, until) - Math.min(from, until));
    this.busyFrom[i] = NaN;
  }
}
