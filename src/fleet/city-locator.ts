// Maps a position to the configured city whose boundary contains it (bbox pre-check, then point-in-polygon).
import { bbox, booleanPointInPolygon } from '@turf/turf';
import type { MultiPolygon, Polygon } from 'geojson';
import type { CityDef } from '../config/cities.js';

interface BoundedCity {
  name: string;
  boundary: Polygon | MultiPolygon;
  minLng: number;
  minLat: number;
  maxLng: number;
  maxLat: number;
}

/**
 * Answers "which city is this point in?". Bounded cities are tried in config order (first match wins);
 * the single world city (null boundary), if any, catches everything else.
 * Boundaries crossing the antimeridian are not supported (turf treats longitudes as planar).
 */
export class CityLocator {
  private bounded: BoundedCity[] = [];
  private worldCity: string | null = null;

  constructor(cities: readonly CityDef[]) {
    this.replace(cities);
  }

  /** Answer from now on with `cities` (the live catalog changed); holders of this locator see it at once. */
  replace(cities: readonly CityDef[]): void {
    const bounded: BoundedCity[] = [];
    let world: string | null = null;
    const names = new Set<string>();
    for (const c of cities) {
      if (names.has(c.name)) throw new Error(`city ${c.name} is defined twice`);
      names.add(c.name);
      if (c.boundary === null) {
        // Two catch-all cities would make every unbounded position ambiguous.
        if (world !== null) throw new Error(`cities ${world} and ${c.name} both have a null (whole-world) boundary`);
        world = c.name;
        continue;
      }
      const [minLng, minLat, maxLng, maxLat] = bbox(c.boundary);
      bounded.push({ name: c.name, boundary: c.boundary, minLng: minLng!, minLat: minLat!, maxLng: maxLng!, maxLat: maxLat! });
    }
    this.bounded = bounded;
    this.worldCity = world;
  }

  /** Name of the city containing (lat, lng) degrees, or null when none does (or the position is not a valid lat/lng). */
  locate(lat: number, lng: number): string | null {
    if (!(lat >= -90 && lat <= 90) || !(lng >= -180 && lng <= 180)) return null;
    const bounded = this.bounded;
    // Fast path: a single world city (the default config) needs no geometry and no allocation.
    if (bounded.length === 0) return this.worldCity;
    for (let i = 0; i < bounded.length; i++) {
      const c = bounded[i]!;
      if (lng < c.minLng || lng > c.maxLng || lat < c.minLat || lat > c.maxLat) continue;
      if (booleanPointInPolygon([lng, lat], c.boundary)) return c.name;
    }
    return this.worldCity;
  }
}
