// Routes each ETA request to its city's model (by the destination, else the origin), with a fallback for everywhere else.
import type { EtaEstimate, EtaModel } from './eta-model.js';

export interface CityEtaOptions {
  /** City name of a position, degrees (the fleet's city lookup); null outside every city. */
  locate: (lat: number, lng: number) => string | null;
  models: ReadonlyMap<string, EtaModel>;
  fallback: EtaModel;
  /** A city's own baseline (its `speedMps` setting), answering while its learned model is not fitted; undefined: the learned model's prior answers. */
  baselineOf?: (city: string) => EtaModel | undefined;
}

export class CityEta implements EtaModel {
  readonly name = 'city';
  private lastLat = NaN;
  private lastLng = NaN;
  /** Model of the destination last looked up, or undefined when it lies in no modelled city. */
  private lastModel: EtaModel | undefined;

  constructor(private readonly o: CityEtaOptions) {}

  private modelAt(lat: number, lng: number): EtaModel | undefined {
    const name = this.o.locate(lat, lng);
    if (name === null) return undefined;
    const m = this.o.models.get(name);
    if (this.o.baselineOf && !(m as { fitted?: boolean } | undefined)?.fitted) return this.o.baselineOf(name) ?? m;
    return m;
  }

  /** The model for a request: ranking asks many times for one destination, so its lookup is cached. */
  private pick(fromLat: number, fromLng: number, toLat: number, toLng: number): EtaModel {
    if (toLat !== this.lastLat || toLng !== this.lastLng) {
      this.lastModel = this.modelAt(toLat, toLng);
      this.lastLat = toLat;
      this.lastLng = toLng;
    }
    return this.lastModel ?? this.modelAt(fromLat, fromLng) ?? this.o.fallback;
  }

  seconds(fromLat: number, fromLng: number, toLat: number, toLng: number, atMs: number): number {
    return this.pick(fromLat, fromLng, toLat, toLng).seconds(fromLat, fromLng, toLat, toLng, atMs);
  }

  estimate(fromLat: number, fromLng: number, toLat: number, toLng: number, atMs: number): EtaEstimate {
    return this.pick(fromLat, fromLng, toLat, toLng).estimate(fromLat, fromLng, toLat, toLng, atMs);
  }

  secondsMany(
    fromLat: ArrayLike<number>, fromLng: ArrayLike<number>, slots: ArrayLike<number> | null, n: number,
    toLat: number, toLng: number, atMs: number, out: Float64Array | number[],
  ): void {
    if (n === 0) return;
    const j = slots === null ? 0 : slots[0]!;
    this.pick(fromLat[j]!, fromLng[j]!, toLat, toLng).secondsMany(fromLat, fromLng, slots, n, toLat, toLng, atMs, out);
  }
}
