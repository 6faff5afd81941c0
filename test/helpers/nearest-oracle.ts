// Brute-force oracle for CityFleet.nearest tests: the k nearest live drivers by haversine, by checking all.
import type { CityFleet } from '../../src/fleet/city-fleet.js';
import { haversineMetres } from '../../src/fleet/geo.js';

export interface Hit { id: string; metres: number }

/** The k nearest live drivers within maxM metres of (lat, lng) degrees passing `filter`, nearest first. */
export function bruteForce(f: CityFleet, lat: number, lng: number, k: number, maxM: number, filter: ((s: number) => boolean) | null = null): Hit[] {
  const all: Hit[] = [];
  f.forEachAlive((s) => {
    const d = haversineMetres(lat, lng, f.lat[s]!, f.lng[s]!);
    if (d <= maxM && (filter === null || filter(s))) all.push({ id: f.idAt(s), metres: d });
  });
  all.sort((a, b) => a.metres - b.metres);
  return all.slice(0, k);
}
