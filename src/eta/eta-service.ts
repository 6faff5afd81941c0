// The node's ETA: a learned model per city (fallback baseline), fed by live fixes and completed trips, saved periodically.
import path from 'node:path';
import { Packr, Unpackr } from 'msgpackr';
import type { Bus } from '../bus/bus.js';
import type { CityDef } from '../config/cities.js';
import type { CityLocator } from '../fleet/city-locator.js';
import type { Logger } from '../observability/logger.js';
import type { JobRecord } from '../protocol/job-record.js';
import { BaselineEta } from './baseline.js';
import { CityEta } from './city-eta.js';
import type { EtaModel } from './eta-model.js';
import type { CompletedTrip, FitReport, LearnedEta } from './learned-eta.js';
import type { FitInput, FitOutput } from './learned-fit.js';
import { WorkerRpc } from '../util/worker-rpc.js';
import { openLearnedEta, saveLearnedEta } from './eta-state-store.js';
import type { EtaStateStore } from './eta-state-store.js';

export interface EtaServiceOptions {
  cities: readonly CityDef[];
  locator: CityLocator;
  store: EtaStateStore;
  logger: Logger;
  /** Baseline speed, m/s, for places outside every modelled city. */
  fallbackSpeedMps: number;
  /** A city's own baseline speed (its `dispatch.speedMps`), m/s, used until its learned model is fitted; undefined: none set. */
  citySpeedMps?: (city: string) => number | undefined;
  /** Seed paths in the cities file are relative to this folder. */
  baseDir: string;
  /** Whether this node writes the shared state (one writer per cluster). */
  isWriter: () => Promise<boolean>;
  /**
   * When given, completed trips are published on it and every node's model (this one included) learns
   * from each, whichever node recorded it. Best-effort like all bus traffic: a node that is away misses
   * those trips until it loads the writer's saved state.
   */
  bus?: Bus;
}

/** Bus channel of completed trips: msgpack `{ c: city, t: [fromLat, fromLng, toLat, toLng, startMs, durationS], s?: driver }`. */
export const ETA_TRIPS_CHANNEL = 'eta-trips';
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

/** How often models check whether to refit, and how often learned state is saved, ms. */
const MAINTAIN_MS = 60_000;
const SAVE_MS = 5 * 60_000;

async function openCityModel(o: EtaServiceOptions, c: CityDef): Promise<LearnedEta> {
  const seed = c.eta ?? {};
  const t0 = Date.now();
  const m = await openLearnedEta(o.store, {
    city: c.name,
    timeZone: c.timezone,
    seedTripsCsv: seed.seedTrips ? path.resolve(o.baseDir, seed.seedTrips) : undefined,
    seedTracesCsv: seed.seedTraces ? path.resolve(o.baseDir, seed.seedTraces) : undefined,
  });
  o.logger.info({ city: c.name, trips: m.tripCount, fitted: m.fitted, ms: Date.now() - t0 }, 'eta model ready');
  return m;
}

export class EtaService {
  readonly model: EtaModel;
  private timers: NodeJS.Timeout[] = [];
  /** Refits run here, off the event loop (a fit of 6,000 trips is ~3 s of CPU). */
  private readonly fitter = new WorkerRpc<FitInput, FitOutput>(new URL('./fit-worker.js', import.meta.url), 'eta fit worker');
  private maintaining: Promise<void> | null = null;
  private stopped = false;

  private constructor(private readonly o: EtaServiceOptions, private readonly models: Map<string, LearnedEta>) {
    const baselines = new Map<number, BaselineEta>();
    const baselineOf = (city: string): BaselineEta | undefined => {
      const mps = o.citySpeedMps?.(city);
      if (mps === undefined) return undefined;
      let b = baselines.get(mps);
      if (!b) baselines.set(mps, (b = new BaselineEta(mps)));
      return b;
    };
    this.model = new CityEta({ locate: (lat, lng) => o.locator.locate(lat, lng), models, fallback: new BaselineEta(o.fallbackSpeedMps), baselineOf });
  }

  /** Load each city's saved model, or train it from the city's seed files, or start it untrained. */
  static async open(o: EtaServiceOptions): Promise<EtaService> {
    const models = new Map<string, LearnedEta>();
    for (const c of o.cities) models.set(c.name, await openCityModel(o, c));
    const svc = new EtaService(o, models);
    if (o.bus) await o.bus.subscribe(ETA_TRIPS_CHANNEL, (p) => svc.onTripMessage(p));
    return svc;
  }

  /**
   * A city was added or changed at run time (the catalog): a new city's model is opened (its saved state
   * or untrained; answers come from the fallback baseline until it is ready), a removed city's dropped.
   * A changed timezone applies from the next start.
   */
  cityChanged(name: string, def: CityDef | undefined): void {
    if (!def) {
      this.models.delete(name);
      return;
    }
    if (this.models.has(name) || this.stopped) return;
    openCityModel(this.o, def).then(
      (m) => {
        if (!this.stopped) this.models.set(name, m);
      },
      (err) => this.o.logger.warn({ err, city: name }, 'eta model of a new city not opened: the baseline answers'),
    );
  }

  start(): void {
    this.timers.push(setInterval(() => void this.maintain(), MAINTAIN_MS));
    this.timers.push(setInterval(() => void this.save(), SAVE_MS));
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    // A fit in progress is abandoned: the saved state holds its trips and the previous model.
    this.stopped = true;
    await this.fitter.close();
    await this.maintaining;
    await this.save();
  }

  /** A live fix of a driver on a trip (degrees, ms): the fleet is the traffic sensor. */
  observeFix(city: string | null, driver: string, lat: number, lng: number, tsMs: number): void {
    if (city !== null) this.models.get(city)?.observeFix(driver, lat, lng, tsMs);
  }

  /** Seconds of driving the city's telemetry speed grid has seen (decayed); 0 for a city without a model. */
  telemetryS(city: string): number {
    return this.models.get(city)?.telemetryS ?? 0;
  }

  /** Drivers that left the fleet. */
  forget(ids: readonly string[]): void {
    for (const m of this.models.values()) for (const id of ids) m.forgetSource(id);
  }

  /** A completed job is a real trip: from its pickup to where the driver completed it. */
  tripCompleted(rec: JobRecord, endLat: number, endLng: number): void {
    const started = rec.times.in_progress;
    const done = rec.times.completed;
    if (!started || !done || done <= started) return;
    const trip: CompletedTrip = {
      fromLat: rec.pickup.lat, fromLng: rec.pickup.lng, toLat: endLat, toLng: endLng,
      startMs: started, durationS: (done - started) / 1000, source: rec.driver ?? undefined,
    };
    if (!this.models.has(rec.city)) return;
    if (!this.o.bus) {
      this.models.get(rec.city)!.addTrip(trip);
      return;
    }
    const t = [trip.fromLat, trip.fromLng, trip.toLat, trip.toLng, trip.startMs, trip.durationS];
    this.o.bus.publish(ETA_TRIPS_CHANNEL, packr.pack(trip.source === undefined ? { c: rec.city, t } : { c: rec.city, t, s: trip.source }));
  }

  /** A completed trip from the bus (any node): validated, then learned by this node's model of its city. */
  private onTripMessage(payload: Buffer): void {
    let m: { c?: unknown; t?: unknown; s?: unknown };
    try {
      m = unpackr.unpack(payload) as typeof m;
    } catch (err) {
      this.o.logger.warn({ err }, 'malformed eta trip message dropped');
      return;
    }
    const model = typeof m?.c === 'string' ? this.models.get(m.c) : undefined;
    const t = m?.t;
    if (!model || !Array.isArray(t) || t.length !== 6 || !t.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      this.o.logger.warn({ city: m?.c }, 'eta trip message for no known city, or malformed: dropped');
      return;
    }
    const [fromLat, fromLng, toLat, toLng, startMs, durationS] = t as number[];
    model.addTrip({ fromLat: fromLat!, fromLng: fromLng!, toLat: toLat!, toLng: toLng!, startMs: startMs!, durationS: durationS!, source: typeof m.s === 'string' ? m.s : undefined });
  }

  /**
   * Refit the models that are due, one at a time, on the worker thread; a city keeps answering with its
   * current model meanwhile. If the worker fails, that refit runs in place (blocking, but never lost).
   * Resolves when this round is done; a round never overlaps the previous one.
   */
  maintain(): Promise<void> {
    this.maintaining ??= this.maintainRound().finally(() => {
      this.maintaining = null;
    });
    return this.maintaining;
  }

  private async maintainRound(): Promise<void> {
    for (const m of this.models.values()) {
      if (this.stopped) return;
      try {
        let r: FitReport | null;
        try {
          r = await m.maintainAsync((input) => this.fitter.call(input, [input.trips.buffer as ArrayBuffer]));
        } catch (err) {
          if (this.stopped) return;
          this.o.logger.warn({ err, city: m.city }, 'eta fit worker failed: refitting in place');
          r = m.fitDue ? m.fit() : null;
        }
        if (r) this.o.logger.info({ city: m.city, trips: r.trips, trees: r.trees, ms: r.ms }, 'eta model refitted');
      } catch (err) {
        this.o.logger.error({ err, city: m.city }, 'eta refit failed');
      }
    }
  }

  private async save(): Promise<void> {
    try {
      if (!(await this.o.isWriter())) return;
      for (const m of this.models.values()) await saveLearnedEta(this.o.store, m);
    } catch (err) {
      this.o.logger.warn({ err }, 'eta state not saved');
    }
  }
}
