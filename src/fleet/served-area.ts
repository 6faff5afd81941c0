// How far a point lies from the area the configured cities serve: the sanity check behind GET /v1/eta.
import { bbox } from '@turf/turf';
import type { CityDef } from '../config/cities.js';
import type { CityLocator } from './city-locator.js';
import { haversineMetres } from './geo.js';

/**
 * Distance from a point to the served area. A point in a city (by its boundary) is at 0; any point is
 * at 0 when a catch-all city (`boundary: null`) exists; otherwise the distance is to the nearest bounded
 * city's bounding box (its nearest edge or corner), which under-estimates the distance to the boundary
 * itself: good enough to tell "just outside town" from "another continent".
 */
export class ServedArea {
  private catchAll = false;
  /** Bounding boxes of bounded cities, 4 numbers each: minLat, minLng, maxLat, maxLng (degrees). */
  private boxes = new Float64Array(0);
  private seen: readonly CityDef[] | null = null;

  /** `cities` gives the live list (the same array until a city changes: the boxes are rebuilt only then). */
  constructor(private readonly cities: () => readonly CityDef[], private readonly locator: CityLocator) {}

  private refresh(): void {
    const cities = this.cities();
    if (cities === this.seen) return;
    this.seen = cities;
    this.catchAll = cities.some((c) => c.boundary === null);
    const bounded = cities.filter((c) => c.boundary !== null);
    this.boxes = new Float64Array(bounded.length * 4);
    bounded.forEach((c, i) => {
      const [minLng, minLat, maxLng, maxLat] = bbox(c.boundary!);
      this.boxes.set([minLat!, minLng!, maxLat!, maxLng!], i * 4);
    });
  }

  /** Metres from (lat, lng) degrees to the served area: 0 inside it, Infinity when nothing is served. */
  distanceM(lat: number, lng: number): number {
    this.refresh();
    if (this.catchAll || this.locator.locate(lat, lng) !== null) return 0;
    let best = Infinity;
    const b = this.boxes;
    for (let i = 0; i < b.length; i += 4) {
      const cLat = Math.min(Math.max(lat, b[i]!), b[i + 2]!);
      const cLng = Math.min(Math.max(lng, b[i + 1]!), b[i + 3]!);
      const d = haversineMetres(lat, lng, cLat, cLng);
      if (d < best) best = d;
    }
    return best;
  }
}
