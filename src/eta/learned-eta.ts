// Learned per-city ETA: log-linear distance term + boosted trees over trip and telemetry features + online corrections.
import { haversineMetres } from '../fleet/geo.js';
import type { EtaEstimate, EtaModel } from './eta-model.js';
import { DEFAULT_GBM, GbmModel } from './gbm.js';
import type { GbmJson, GbmParams } from './gbm.js';
import { D0_M, MIN_FIT_TRIPS, PRIOR_DETOUR, PRIOR_SPEED_MPS, fitLearned, gridLogSpeed } from './learned-fit.js';
import type { FitInput, FitOutput } from './learned-fit.js';
import { FixPairer } from './fix-pairer.js';
import { LocalClock } from './local-clock.js';
import { ResidualTable } from './residual-table.js';
import type { ResidualState } from './residual-table.js';
import { SpeedGrid, bandOf, foldOf } from './speed-grid.js';
import type { SpeedGridState } from './speed-grid.js';
import type { Trace } from './trace-csv.js';
import { TRACE_PERIOD_S } from './trace-csv.js';
import type { TripRow } from './trip-csv.js';
import { TripFrame } from './trip-features.js';
import type { TripFrameJson } from './trip-features.js';
import { TripStore } from './trip-store.js';

export interface LearnedEtaOptions {
  city: string;
  /** IANA zone of the city: time-of-week features are local. */
  timeZone: string;
  /** Training trips kept (newest win), default 50,000. */
  maxTrips?: number;
  /** `maintain()` refits after this many new trips, default 1000. */
  retrainEvery?: number;
  gbm?: Partial<GbmParams>;
}

/** A completed job as training data: where it really started and ended, when (ms since the epoch) and how long (s). */
export interface CompletedTrip {
  fromLat: number; fromLng: number; toLat: number; toLng: number;
  startMs: number;
  durationS: number;
  /** Whose fixes drove it (driver id): its own telemetry is left out of its training features. */
  source?: string;
}

export interface FitReport { trips: number; trees: number; angleDeg: number; slope: number; ms: number }

export interface LearnedEtaState {
  /** 2: frame with landmarks and the rich features; a v 1 state (12 features) is loaded and refitted. */
  v: 2; city: string; timeZone: string; maxTrips: number; retrainEvery: number;
  frame: TripFrameJson | null;
  intercept: number; slope: number; detour: number; detourSums: [number, number];
  gbm: GbmJson | null;
  trips: ReturnType<TripStore['toJSON']>;
  grid: SpeedGridState | null;
  residuals: ResidualState | null;
}

export class LearnedEta implements EtaModel {
  readonly name = 'learned';
  readonly city: string;
  readonly timeZone: string;
  private readonly clock: LocalClock;
  private x = new Float64Array(0);
  private readonly pairer: FixPairer;
  private readonly gbmParams: GbmParams;
  private readonly retrainEvery: number;
  private trips: TripStore;
  private frame: TripFrame | null = null;
  private gbm: GbmModel | null = null;
  private intercept = 0;
  private slope = 0;
  private grid: SpeedGrid | null = null;
  private residuals: ResidualTable | null = null;
  /** Sum of driven and of straight-line metres over direct traces, for the road-distance estimate. */
  private detourSums: [number, number] = [0, 0];
  private detour = PRIOR_DETOUR;
  /** Trips added since the last fit. */
  tripsSinceFit = 0;
  private fitting = false;

  constructor(opts: LearnedEtaOptions) {
    this.city = opts.city;
    this.timeZone = opts.timeZone;
    this.clock = new LocalClock(opts.timeZone);
    this.trips = new TripStore(opts.maxTrips ?? 50_000);
    this.retrainEvery = opts.retrainEvery ?? 1000;
    this.gbmParams = { ...DEFAULT_GBM, ...opts.gbm };
    this.pairer = new FixPairer((source, lat1, lng1, lat2, lng2, m, s, ts) => {
      this.clock.set(ts);
      this.gridAt(lat1, lng1).addSegment(foldOf(source), bandOf(this.clock.weekday, this.clock.hour), lat1, lng1, lat2, lng2, m, s, ts);
    });
  }

  get fitted(): boolean {
    return this.gbm !== null;
  }

  get tripCount(): number {
    return this.trips.size;
  }

  /** Seconds of driving the telemetry grid has seen (decayed). */
  get telemetryS(): number {
    return this.grid?.observedS ?? 0;
  }

  private gridAt(lat: number, lng: number): SpeedGrid {
    // The grid's origin only anchors cell numbering: the first position seen is as good as any.
    return (this.grid ??= new SpeedGrid(lat, lng));
  }

  /** Historical trips (e.g. a CSV), no online update; `source` defaults to the row id, which matches a trace's TRIP_ID. */
  addHistory(rows: readonly TripRow[], sourceOf: (r: TripRow) => string = (r) => r.id): void {
    for (const r of rows) {
      this.trips.add(r.fromLat, r.fromLng, r.toLat, r.toLng, r.weekday, r.hour, r.durationS, foldOf(sourceOf(r)));
      this.tripsSinceFit++;
    }
  }

  /** A completed job: stored for the next fit and, at once, corrects predictions for its area and time band. */
  addTrip(t: CompletedTrip): void {
    if (!(t.durationS > 0) || ![t.fromLat, t.fromLng, t.toLat, t.toLng, t.startMs].every(Number.isFinite)) return;
    this.clock.set(t.startMs);
    const { weekday, hour } = this.clock;
    this.trips.add(t.fromLat, t.fromLng, t.toLat, t.toLng, weekday, hour, t.durationS, foldOf(t.source ?? ''));
    this.tripsSinceFit++;
    if (this.gbm) {
      const band = bandOf(weekday, hour);
      const r = Math.log1p(t.durationS) - this.logSeconds(t.fromLat, t.fromLng, t.toLat, t.toLng, weekday, hour, false);
      (this.residuals ??= new ResidualTable(t.fromLat, t.fromLng)).add(t.fromLat, t.fromLng, band, r);
    }
  }

  /** A live GPS fix of `source` (a driver): consecutive fixes teach the speed grid. */
  observeFix(source: string, lat: number, lng: number, tsMs: number): void {
    this.pairer.observe(source, lat, lng, tsMs);
  }

  /** Drop the last fix kept for `source` (a driver that left the fleet). */
  forgetSource(source: string): void {
    this.pairer.forget(source);
  }

  /** A whole recorded trace (one fix every 15 s) as telemetry, and as evidence of how much longer roads are than straight lines. */
  observeTrace(t: Trace): void {
    const n = t.lat.length;
    let path = 0;
    for (let i = 0; i < n; i++) {
      this.observeFix(t.id, t.lat[i]!, t.lng[i]!, (t.startS + TRACE_PERIOD_S * i) * 1000);
      if (i > 0) path += haversineMetres(t.lat[i - 1]!, t.lng[i - 1]!, t.lat[i]!, t.lng[i]!);
    }
    this.forgetSource(t.id);
    if (n < 2) return;
    const straight = haversineMetres(t.lat[0]!, t.lng[0]!, t.lat[n - 1]!, t.lng[n - 1]!);
    // Round trips and waits say nothing about detours: only fairly direct trips of some length count.
    if (straight > 500 && path < 2.5 * straight) {
      this.detourSums[0] += path;
      this.detourSums[1] += straight;
      this.detour = this.detourSums[0] / this.detourSums[1];
    }
  }

  /** Refit on every stored trip on this thread (~3 s per 6,000 NYC trips). Clears the online corrections, which the fit absorbs. */
  fit(): FitReport {
    return this.applyFit(fitLearned(this.fitInput(false), this.grid), this.tripsSinceFit);
  }

  /** What a fit reads, as plain data (a copy: later trips and fixes do not change it). `withGrid`: include the telemetry grid's state. */
  fitInput(withGrid = true): FitInput {
    return { trips: this.trips.columns(), grid: withGrid ? (this.grid?.toJSON() ?? null) : null, params: this.gbmParams };
  }

  /**
   * Install a fit made from `fitInput()` (here or on a worker). `absorbed` is how many of the trips since the
   * last fit it saw; trips added while it ran stay counted toward the next refit.
   */
  applyFit(out: FitOutput, absorbed: number): FitReport {
    this.tripsSinceFit = Math.max(0, this.tripsSinceFit - absorbed);
    if (!out.gbm || !out.frame) {
      this.gbm = null;
      return { trips: out.trips, trees: 0, angleDeg: 0, slope: 0, ms: out.ms };
    }
    this.gbm = GbmModel.fromJSON(out.gbm);
    this.setFrame(TripFrame.fromJSON(out.frame));
    this.intercept = out.intercept;
    this.slope = out.slope;
    this.residuals?.clear();
    return { trips: out.trips, trees: this.gbm.trees, angleDeg: out.angleDeg, slope: out.slope, ms: out.ms };
  }

  private setFrame(frame: TripFrame | null): void {
    this.frame = frame;
    this.x = new Float64Array(frame?.size ?? 0);
  }

  /** Whether enough new trips arrived for a refit (or none was ever fitted and there are enough). */
  get fitDue(): boolean {
    return this.gbm ? this.tripsSinceFit >= this.retrainEvery : this.trips.size >= MIN_FIT_TRIPS && this.tripsSinceFit > 0;
  }

  /** Refit on this thread when due. Returns whether it did. */
  maintain(): boolean {
    const due = this.fitDue;
    if (due) this.fit();
    return due;
  }

  /**
   * Refit when due, with `fitter` doing the work (a worker thread: the event loop only copies the trips and
   * the grid out, ~ms). At most one such fit per model at a time; predictions keep using the current model
   * until the new one is installed. Returns the report, or null when no fit was due or one is running.
   */
  async maintainAsync(fitter: (input: FitInput) => Promise<FitOutput>): Promise<FitReport | null> {
    if (this.fitting || !this.fitDue) return null;
    this.fitting = true;
    try {
      const absorbed = this.tripsSinceFit;
      const out = await fitter(this.fitInput(true));
      return this.applyFit(out, absorbed);
    } finally {
      this.fitting = false;
    }
  }

  private gridLogSpeed(fromLat: number, fromLng: number, toLat: number, toLng: number, weekday: number, hour: number, fold: number): number {
    return gridLogSpeed(this.grid, fromLat, fromLng, toLat, toLng, weekday, hour, fold);
  }

  /** log(1 + seconds) for a trip starting at local `weekday` (1-7) and `hour` (0-23); `online` adds the corrections. */
  logSeconds(fromLat: number, fromLng: number, toLat: number, toLng: number, weekday: number, hour: number, online = true): number {
    const frame = this.frame;
    if (!this.gbm || !frame) {
      const d = haversineMetres(fromLat, fromLng, toLat, toLng);
      return Math.log1p((d * PRIOR_DETOUR) / PRIOR_SPEED_MPS);
    }
    const g = this.gridLogSpeed(fromLat, fromLng, toLat, toLng, weekday, hour, -1);
    const d = frame.fill(this.x, fromLat, fromLng, toLat, toLng, weekday, hour, g);
    let v = this.intercept + this.slope * Math.log(d + D0_M) + this.gbm.predict(this.x);
    if (online && this.residuals) v += this.residuals.correction(fromLat, fromLng, bandOf(weekday, hour));
    return v;
  }

  /** Seconds for a trip starting at local `weekday` and `hour` (what eval and cross-validation call). */
  predictLocal(fromLat: number, fromLng: number, toLat: number, toLng: number, weekday: number, hour: number): number {
    return Math.max(0, Math.expm1(this.logSeconds(fromLat, fromLng, toLat, toLng, weekday, hour)));
  }

  seconds(fromLat: number, fromLng: number, toLat: number, toLng: number, atMs: number): number {
    this.clock.set(atMs);
    return Math.round(this.predictLocal(fromLat, fromLng, toLat, toLng, this.clock.weekday, this.clock.hour));
  }

  secondsMany(
    fromLat: ArrayLike<number>, fromLng: ArrayLike<number>, slots: ArrayLike<number> | null, n: number,
    toLat: number, toLng: number, atMs: number, out: Float64Array | number[],
  ): void {
    this.clock.set(atMs);
    const { weekday, hour } = this.clock;
    for (let i = 0; i < n; i++) {
      const j = slots === null ? i : slots[i]!;
      out[i] = Math.round(this.predictLocal(fromLat[j]!, fromLng[j]!, toLat, toLng, weekday, hour));
    }
  }

  estimate(fromLat: number, fromLng: number, toLat: number, toLng: number, atMs: number): EtaEstimate {
    const d = haversineMetres(fromLat, fromLng, toLat, toLng);
    return { eta_s: this.seconds(fromLat, fromLng, toLat, toLng, atMs), distance_m: Math.round(d * this.detour) };
  }

  toState(): LearnedEtaState {
    return {
      v: 2, city: this.city, timeZone: this.timeZone, maxTrips: this.trips.capacity, retrainEvery: this.retrainEvery,
      frame: this.frame?.toJSON() ?? null, intercept: this.intercept, slope: this.slope, detour: this.detour, detourSums: this.detourSums,
      gbm: this.gbm?.toJSON() ?? null, trips: this.trips.toJSON(), grid: this.grid?.toJSON() ?? null, residuals: this.residuals?.toJSON() ?? null,
    } as LearnedEtaState;
  }

  /**
   * Rebuild from `toState()` output; `opts` may change the bounds (maxTrips, retrainEvery, gbm). A v 1
   * state (older feature layout) keeps its trips, telemetry and detour, and is refitted here.
   */
  static fromState(s: LearnedEtaState | (Omit<LearnedEtaState, 'v'> & { v: 1 }), opts: Partial<LearnedEtaOptions> = {}): LearnedEta {
    if (s?.v !== 1 && s?.v !== 2) throw new Error('unsupported learned ETA state (expected v 1 or 2)');
    const m = new LearnedEta({ city: s.city, timeZone: s.timeZone, maxTrips: s.maxTrips, retrainEvery: s.retrainEvery, ...opts });
    m.trips = TripStore.fromJSON(s.trips, opts.maxTrips ?? s.maxTrips);
    m.setFrame(s.frame ? TripFrame.fromJSON(s.frame) : null);
    m.intercept = s.intercept;
    m.slope = s.slope;
    m.detour = s.detour;
    m.detourSums = s.detourSums;
    m.gbm = s.gbm ? GbmModel.fromJSON(s.gbm) : null;
    m.grid = s.grid ? SpeedGrid.fromJSON(s.grid) : null;
    m.residuals = s.residuals ? ResidualTable.fromJSON(s.residuals) : null;
    m.tripsSinceFit = 0;
    if (s.v === 1 && m.gbm) m.fit();
    return m;
  }
}
