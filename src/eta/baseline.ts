// Baseline ETA: great-circle distance times a detour factor, over one average speed. Kept for comparison.
import { haversineMetres } from '../fleet/geo.js';
import type { EtaEstimate, EtaModel } from './eta-model.js';

/** Roads are longer than the straight line; 1.3 is a common urban detour factor. */
const DETOUR = 1.3;

export class BaselineEta implements EtaModel {
  readonly name = 'baseline';
  /** @param speedMps average door-to-door speed, m/s */
  constructor(private readonly speedMps: number) {
    if (!(speedMps > 0)) throw new Error('baseline ETA speed must be > 0 m/s');
  }

  seconds(fromLat: number, fromLng: number, toLat: number, toLng: number): number {
    return Math.round((haversineMetres(fromLat, fromLng, toLat, toLng) * DETOUR) / this.speedMps);
  }

  secondsMany(
    fromLat: ArrayLike<number>, fromLng: ArrayLike<number>, slots: ArrayLike<number> | null, n: number,
    toLat: number, toLng: number, _atMs: number, out: Float64Array | number[],
  ): void {
    for (let i = 0; i < n; i++) {
      const j = slots === null ? i : slots[i]!;
      out[i] = this.seconds(fromLat[j]!, fromLng[j]!, toLat, toLng);
    }
  }

  estimate(fromLat: number, fromLng: number, toLat: number, toLng: number): EtaEstimate {
    const d = haversineMetres(fromLat, fromLng, toLat, toLng) * DETOUR;
    return { eta_s: Math.round(d / this.speedMps), distance_m: Math.round(d) };
  }
}
