// Per-city spatial index of zones: flatbush over their bounding boxes, then an exact point-in-polygon test (turf); rebuilt on catalog change.
import Flatbush from 'flatbush';
import { PickupNotAllowedError } from '../protocol/errors.js';
import type { CityCatalog } from './city-catalog.js';
import type { ZoneDef, ZoneKind } from './zones.js';

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
}

/** Cells per side, at most, of a city's occupancy grid (1 byte a cell: at most 1 MiB a city). */
const GRID_CELLS = 1024;

interface CityZones {
  tree: Flatbush | null;
  zones: IndexedZone[];
  /**
   * Occupancy grid over the zones' extent: a cell is 1 when some zone's box overlaps it. Most fixes fall
   * in empty cells and are answered with a few multiplications, before any tree search (which allocates).
   */
  gx: number;
  gy: number;
  cellLng: number;
  cellLat: number;
  nx: number;
  ny: number;
  occ: Uint8Array;
}

/**
 * Zones of every city, answering "which zone holds this point" per fix. Each city's index is rebuilt
 * (O(n log n), n zones of that city) when one of its zones changes; lookups are a flatbush box query
 * (O(log n) plus hits) and one exact test per candidate box, so 1,000 zones cost about what 10 do
 * (benchmarks/zone-ingest.ts). Overlapping zones: a point is in the one with the smallest bounding box
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

  /** The newest zone with this handle (check `live`: a deleted zone is kept so its exit can still name it). */
  byHandleOf(handle: number): IndexedZone | undefined {
    return this.byHandle[handle];
  }

  /** Number of zones of `city` (0 for an unknown city). */
  count(city: string): number {
    return this.cities.get(city)?.zones.length ?? 0;
  }

  /** The zone of `city` holding (lat, lng) degrees (smallest box first), optionally only of `kind`; undefined when none. */
  find(city: string, lat: number, lng: number, kind?: ZoneKind): IndexedZone | undefined {
    const c = this.cities.get(city);
    if (!c || c.tree === null) return undefined;
    const cx = Math.floor((lng - c.gx) / c.cellLng), cy = Math.floor((lat - c.gy) / c.cellLat);
    if (cx < 0 || cy < 0 || cx >= c.nx || cy >= c.ny || c.occ[cy * c.nx + cx] === 0) return undefined;
    const hits = c.tree.search(lng, lat, lng, lat);
    let best: IndexedZone | undefined;
    for (let i = 0; i < hits.length; i++) {
      const z = c.zones[hits[i]!]!;
      if (kind !== undefined && z.def.kind !== kind) continue;
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

  /** Whether zone `z` holds (lat, lng) degrees: the box, then the exact polygon (boundary counts as inside). */
  holds(z: IndexedZone, lat: number, lng: number): boolean {
    if (lng < z.minLng || lng > z.maxLng || lat < z.minLat || lat > z.maxLat) return false;
    return contains(z.rings, lat, lng);
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
      const tree = new Flatbush(zones.length);
      for (const z of zones) tree.add(z.minLng, z.minLat, z.maxLng, z.maxLat);
      tree.finish();
      this.cities.set(city, { tree, zones, ...grid(zones) });
    }
    this.dirty.clear();
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
    return { handle, def, minLng, minLat, maxLng, maxLat, rings, live: true };
  }
}

/** The occupancy grid of a city's zones (see CityZones): cells of the extent / GRID_CELLS, marked under every box. */
function grid(zones: readonly IndexedZone[]): Pick<CityZones, 'gx' | 'gy' | 'cellLng' | 'cellLat' | 'nx' | 'ny' | 'occ'> {
  let gx = Infinity, gy = Infinity, mx = -Infinity, my = -Infinity;
  for (const z of zones) {
    gx = Math.min(gx, z.minLng);
    gy = Math.min(gy, z.minLat);
    mx = Math.max(mx, z.maxLng);
    my = Math.max(my, z.maxLat);
  }
  // Degenerate extents (one thin zone) still get a positive cell size.
  const cellLng = Math.max((mx - gx) / GRID_CELLS, 1e-9), cellLat = Math.max((my - gy) / GRID_CELLS, 1e-9);
  // One more cell than the extent holds, so a point on its far edge (which a zone edge may pass) has one.
  const nx = Math.min(GRID_CELLS, Math.floor((mx - gx) / cellLng)) + 1, ny = Math.min(GRID_CELLS, Math.floor((my - gy) / cellLat)) + 1;
  const occ = new Uint8Array(nx * ny);
  const clampX = (v: number): number => Math.min(nx - 1, Math.max(0, Math.floor((v - gx) / cellLng)));
  const clampY = (v: number): number => Math.min(ny - 1, Math.max(0, Math.floor((v - gy) / cellLat)));
  for (const z of zones) {
    const x1 = clampX(z.maxLng), y1 = clampY(z.maxLat);
    for (let y = clampY(z.minLat); y <= y1; y++) occ.fill(1, y * nx + clampX(z.minLng), y * nx + x1 + 1);
  }
  return { gx, gy, cellLng, cellLat, nx, ny, occ };
}

/** Smaller bounding box first, then smaller id: the preference among overlapping zones. */
function order(a: IndexedZone, b: IndexedZone): number {
  const d = (a.maxLng - a.minLng) * (a.maxLat - a.minLat) - (b.maxLng - b.minLng) * (b.maxLat - b.minLat);
  return d !== 0 ? d : a.def.id < b.def.id ? -1 : a.def.id > b.def.id ? 1 : 0;
}

/**
 * Whether (lat, lng) lies in the polygon (outer ring, minus holes), a point on an edge counting as inside:
 * the even-odd crossing rule over flat rings. Hand-rolled rather than turf's booleanPointInPolygon, which
 * a profile of benchmarks/zone-ingest.ts showed as the largest part of the per-fix cost (it re-reads the
 * GeoJSON and checks its box on every call); test/catalog-zone-index.test.ts checks both agree.
 */
export function contains(rings: readonly Float64Array[], lat: number, lng: number): boolean {
  let inside = false;
  for (let r = 0; r < rings.length; r++) {
    const ring = rings[r]!;
    const n = ring.length;
    for (let i = 0, j = n - 2; i < n; j = i, i += 2) {
      const xi = ring[i]!, yi = ring[i + 1]!, xj = ring[j]!, yj = ring[j + 1]!;
      // On the edge: collinear and within its box.
      const cross = (xj - xi) * (lat - yi) - (yj - yi) * (lng - xi);
      if (cross === 0 && lng >= Math.min(xi, xj) && lng <= Math.max(xi, xj) && lat >= Math.min(yi, yj) && lat <= Math.max(yi, yj)) return true;
      if ((yi > lat) !== (yj > lat) && lng < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}
