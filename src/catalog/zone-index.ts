// Per-city spatial index of zones: flatbush over their bounding boxes, then an exact point-in-polygon test (turf); rebuilt on catalog change.
import Flatbush from 'flatbush';
import { booleanPointInPolygon } from '@turf/turf';
import type { Polygon } from 'geojson';
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
  /** False once the zone was deleted, replaced, or moved to another city (a newer IndexedZone then holds the handle). */
  live: boolean;
}

interface CityZones {
  tree: Flatbush | null;
  zones: IndexedZone[];
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
    const hits = c.tree.search(lng, lat, lng, lat);
    let best: IndexedZone | undefined;
    for (let i = 0; i < hits.length; i++) {
      const z = c.zones[hits[i]!]!;
      if (kind !== undefined && z.def.kind !== kind) continue;
      if (best !== undefined && order(best, z) <= 0) continue;
      if (contains(z.def.polygon, lat, lng)) best = z;
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
    return contains(z.def.polygon, lat, lng);
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
      this.cities.set(city, { tree, zones });
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
    return { handle, def, minLng, minLat, maxLng, maxLat, live: true };
  }
}

/** Smaller bounding box first, then smaller id: the preference among overlapping zones. */
function order(a: IndexedZone, b: IndexedZone): number {
  const d = (a.maxLng - a.minLng) * (a.maxLat - a.minLat) - (b.maxLng - b.minLng) * (b.maxLat - b.minLat);
  return d !== 0 ? d : a.def.id < b.def.id ? -1 : a.def.id > b.def.id ? 1 : 0;
}

/** A reused point so the exact test allocates nothing per call. */
const PT: [number, number] = [0, 0];

function contains(p: Polygon, lat: number, lng: number): boolean {
  PT[0] = lng;
  PT[1] = lat;
  return booleanPointInPolygon(PT, p);
}
