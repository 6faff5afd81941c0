// Demand of the marketplace simulator: real trips (pickup place and hour, dropoff) folded into the simulated hours, scaled, with each rider's patience.
import { filterTrips } from '../../eta/trip-csv.js';
import type { TripRow } from '../../eta/trip-csv.js';
import { mulberry32 } from '../../util/random.js';

/**
 * Rider patience: a rider whose driver has not arrived this long after the request cancels. Uniform
 * between the two bounds (s), drawn per request with the demand, so every policy faces the same riders.
 * 4-12 min (mean 8) is in the range ride-hailing studies report for urban riders.
 */
export const PATIENCE_MIN_S = 240;
export const PATIENCE_MAX_S = 720;

/**
 * Every request of one run, in time order, as columns (no object per request): request time (ms after
 * the run's start), pickup and dropoff (degrees), patience (ms).
 */
export interface Demand {
  n: number;
  atMs: Float64Array;
  pickLat: Float64Array;
  pickLng: Float64Array;
  dropLat: Float64Array;
  dropLng: Float64Array;
  patienceMs: Float64Array;
}

/**
 * The trips usable as demand (the ETA evaluation's filter: 1 min to 4 h, at least 50 m), so a request
 * never has its dropoff at its pickup.
 */
export function usableTrips(rows: readonly TripRow[]): TripRow[] {
  return filterTrips(rows).kept;
}

/**
 * Fold the data's day into each simulated hour: the hours of day the trips cover, from the first to the
 * last (Porto's sample: 01:00-11:00; NYC: the whole day), are squeezed into one simulated hour in order,
 * and a trip of local hour h (the data keeps the hour, not the minute) is requested at
 * (h - first + u) / covered of every simulated hour, u uniform in [0, 1) (seeded). So the hour's demand
 * has the day's shape (its peaks included) and one simulated hour holds every trip once at `scale` 1;
 * a scale of 2.5 requests each trip 2 or 3 times (3 with probability 0.5), each at its own time.
 */
export function buildDemand(trips: readonly TripRow[], hours: number, scale: number, seed: number): Demand {
  const rnd = mulberry32(seed ^ 0x5eed_d00d);
  const endMs = hours * 3_600_000;
  const reqs: Array<[number, number]> = []; // [time ms, trip index]
  const wholeHours = Math.ceil(hours);
  let first = 24, last = -1;
  for (const t of trips) {
    first = Math.min(first, t.hour);
    last = Math.max(last, t.hour);
  }
  const covered = Math.max(1, last - first + 1);
  for (let h = 0; h < wholeHours; h++) {
    for (let i = 0; i < trips.length; i++) {
      const copies = Math.floor(scale) + (rnd() < scale - Math.floor(scale) ? 1 : 0);
      for (let c = 0; c < copies; c++) {
        const at = h * 3_600_000 + ((trips[i]!.hour - first + rnd()) / covered) * 3_600_000;
        if (at < endMs) reqs.push([at, i]);
      }
    }
  }
  // Stable order: by time, then trip index (equal times are vanishingly rare, but the order must not depend on the sort).
  reqs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const n = reqs.length;
  const d: Demand = {
    n, atMs: new Float64Array(n), pickLat: new Float64Array(n), pickLng: new Float64Array(n),
    dropLat: new Float64Array(n), dropLng: new Float64Array(n), patienceMs: new Float64Array(n),
  };
  for (let k = 0; k < n; k++) {
    const [at, i] = reqs[k]!;
    const t = trips[i]!;
    d.atMs[k] = Math.round(at);
    d.pickLat[k] = t.fromLat;
    d.pickLng[k] = t.fromLng;
    d.dropLat[k] = t.toLat;
    d.dropLng[k] = t.toLng;
    d.patienceMs[k] = Math.round((PATIENCE_MIN_S + rnd() * (PATIENCE_MAX_S - PATIENCE_MIN_S)) * 1000);
  }
  return d;
}

/** Driver start positions: pickup places of the data drawn at random (seeded), degrees, [lat, lng] per driver. */
export function driverStarts(trips: readonly TripRow[], drivers: number, seed: number): Float64Array {
  const rnd = mulberry32(seed ^ 0x0d71_7e55);
  const out = new Float64Array(2 * drivers);
  for (let i = 0; i < drivers; i++) {
    const t = trips[Math.floor(rnd() * trips.length)]!;
    out[2 * i] = t.fromLat;
    out[2 * i + 1] = t.fromLng;
  }
  return out;
}
