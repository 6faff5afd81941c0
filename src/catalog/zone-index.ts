// Per-city spatial index of zones: a classified grid for the per-fix question, flatbush over boxes for kind-filtered ones; rebuilt on catalog change.
import Flatbush from 'flatbush';
import { buildZoneGrid, cellOf, contains, locate } from './zone-grid.js';
import type { ZoneGrid } from './zone-grid.js';
import { PickupNotAllowedError } from '../protocol/errors.js';
import type { CityCatalog } from './city-catalog.js';
import type { ZoneDef, ZoneKind } from './zones.js';

export { contains };

/** One indexed zone: its definition, a small integer handle (stable for the zone id while the process lives) and its bounding box (degrees). */
export interface IndexedZone {
  handle: number;
  def: ZoneDef;
  minLng: number;
  minLat: number;
  maxLng: number;
  maxLat: number;
  /** The polygon's rings as flat [lng, lat, lng, lat, ...] degrees (first: outer, others: holes), for the per-fix test. */
  rings: Float64Array[];
  /** False once the zone was deleted, replaced, or moved to another city (a newer IndexedZone then holds the handle). */
  live: boolean;
  /** Its index in its city's zone list while `live` (the grid's zone numbers). */
  pos: number;
}

/** A city's zones as the per-fix path reads them (ZoneWatch keeps cell numbers of `grid` per driver). */
export interface CityZones {
  /** Box tree for kind-filtered queries (a job's pickup: not per fix). */
  readonly tree: Flatbush;
  /** In preference order (`order`); a zone's `pos` is its index here. */
  readonly zones: readonly IndexedZone[];
  /** The per-fix answer: one cell read for most fixes (see ZoneGrid). */
  readonly grid: ZoneGrid;
}

/**
 * Zones of every city, answering "which zone holds this point" per fix. Each city's index is rebuilt
 * when one of its zones changes: a grid classified at build (zone-grid.ts: per cell, no zone / wholly
 * inside one / boundary with its candidates; O(cells under the zones' boxes + rows × edges)) and a
 * flatbush tree over the boxes. The per-fix lookup reads one cell and tests exactly only on boundary
 * cells, so 1,000 zones cost about what 10 do (benchmarks/zone-ingest.ts). Overlapping zones: a point is in the one with the smallest bounding box
 * (the most specific, e.g. an airport rank inside an info zone); ties go to the smaller id.
 */
export class ZoneIndex {
  private readonly cities = new Map<string, CityZones>();
  /** The newest indexed zone of each handle (its `live` false once deleted); handles are never reused. */
  private readonly byHandle: Array<IndexedZone | undefined> = [];
  private readonly handles = new Map<string, number>();

  constructor(private readonly catalog: Pick<CityCatalog, 'zones' | 'addChangeListener'>) {
    for (const z of catalog.zones()) this.dirty.add(z.city);
    this.rebuild();
    catalog.addChangeListener((e) => {
      if (e.kind !== 'zone') return;
      if (e.before) this.dirty.add(e.before.city);
      if (e.after) this.dirty.add(e.after.city);
      this.rebuild();
    });
  }

  private readonly dirty = new Set<string>();
  private lastCity: string | undefined;
  private lastZones: CityZones | undefined;

  /** The newest zone with this handle (check `live`: a deleted zone is kept so its exit can still name it). */
  byHandleOf(handle: number): IndexedZone | undefined {
    return this.byHandle[handle];
  }

  /** Number of zones of `city` (0 for an unknown city). */
  count(city: string): number {
    return this.cities.get(city)?.zones.length ?? 0;
  }

  /**
   * The zone of `city` holding (lat, lng) degrees (the preferred one: smallest box), optionally only of
   * `kind`; undefined when none. Without `kind` (the per-fix question): one grid cell read for most
   * points, an exact test of the cell's few candidates on a boundary cell; allocates nothing. With
   * `kind` (a job's pickup): a box search, then exact tests.
   */
  find(city: string, lat: number, lng: number, kind?: ZoneKind): IndexedZone | undefined {
    const c = this.zonesOf(city);
    if (c === undefined) return undefined;
    if (kind === undefined) {
      const p = locate(c.grid, c.zones, lat, lng);
      return p < 0 ? undefined : c.zones[p];
    }
    const hits = c.tree.search(lng, lat, lng, lat);
    let best: IndexedZone | undefined;
    for (let i = 0; i < hits.length; i++) {
      const z = c.zones[hits[i]!]!;
      if (z.def.kind !== kind) continue;
      if (best !== undefined && order(best, z) <= 0) continue;
      if (contains(z.rings, lat, lng)) best = z;
    }
    return best;
  }

  /** Refuse a job pickup at (lat, lng) degrees inside a `no_pickup` zone of `city` (PickupNotAllowedError naming it). */
  readonly checkPickup = (city: string, lat: number, lng: number): void => {
    const z = this.find(city, lat, lng, 'no_pickup');
    if (z) throw new PickupNotAllowedError(z.def.id, z.def.name);
  };

  /**
   * Whether zone `z` holds (lat, lng) degrees (boundary counts as inside): its box, then its city's grid
   * cell when that decides (wholly inside `z`, or outside every zone), else the exact polygon test.
   */
  holds(z: IndexedZone, lat: number, lng: number): boolean {
    const c = z.live ? this.zonesOf(z.def.city) : undefined;
    return c === undefined ? holdsExactly(z, lat, lng) : holdsIn(z, cellOf(c.grid, lat, lng), lat, lng);
  }

  /** The zones of `city` (undefined: it has none); the last city asked is remembered (fixes come in runs of one city), so most calls skip the map. */
  zonesOf(city: string): CityZones | undefined {
    if (city === this.lastCity) return this.lastZones;
    const c = this.cities.get(city);
    this.lastCity = city;
    this.lastZones = c;
    return c;
  }

  private rebuild(): void {
    for (const city of this.dirty) {
      const defs = this.catalog.zones(city);
      const zones = defs.map((def) => this.indexed(def)).sort(order);
      const old = this.cities.get(city)?.zones;
      if (old) for (const z of old) z.live = false;
      for (const z of zones) this.byHandle[z.handle] = z;
      if (zones.length === 0) {
        this.cities.delete(city);
        continue;
      }
      zones.forEach((z, i) => (z.pos = i));
      const tree = new Flatbush(zones.length);
      for (const z of zones) tree.add(z.minLng, z.minLat, z.maxLng, z.maxLat);
      tree.finish();
      this.cities.set(city, { tree, zones, grid: buildZoneGrid(zones) });
    }
    this.dirty.clear();
    this.lastCity = undefined;
    this.lastZones = undefined;
  }

  private indexed(def: ZoneDef): IndexedZone {
    let handle = this.handles.get(def.id);
    if (handle === undefined) {
      handle = this.byHandle.length;
      this.handles.set(def.id, handle);
      this.byHandle.push(undefined);
    }
    let minLng = Infinity, minLat = Infinity, maxLng = -Infinity, maxLat = -Infinity;
    for (const [lng, lat] of def.polygon.coordinates[0]!) {
      if (lng! < minLng) minLng = lng!;
      if (lng! > maxLng) maxLng = lng!;
      if (lat! < minLat) minLat = lat!;
      if (lat! > maxLat) maxLat = lat!;
    }
    const rings = def.polygon.coordinates.map((r) => Float64Array.from(r.flatMap(([x, y]) => [x!, y!])));
    return { handle, def, minLng, minLat, maxLng, maxLat, rings, live: true, pos: -1 };
  }
}

/** Whether zone `z` (live) holds (lat, lng) degrees, given `v`, the value of their cell in its city's grid. */
export function holdsIn(z: IndexedZone, v: number, lat: number, lng: number): boolean {
  if (v === z.pos + 1) return true;
  if (v === 0) return false;
  return holdsExactly(z, lat, lng);
}

function holdsExactly(z: IndexedZone, lat: number, lng: number): boolean {
  return lng >= z.minLng && lng <= z.maxLng && lat >= z.minLat && lat <= z.maxLat && contains(z.rings, lat, lng);
}

/** Smaller bounding box first, then smaller id: the preference among overlapping zones. */
function order(a: IndexedZone, b: IndexedZone): number {
  const d = (a.maxLng - a.minLng) * (a.maxLat - a.minLat) - (b.maxLng - b.minLng) * (b.maxLat - b.minLat);
  return d !== 0 ? d : a.def.id < b.def.id ? -1 : a.def.id > b.def.id ? 1 : 0;
}

