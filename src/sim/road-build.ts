// Turns a GeoJSON FeatureCollection of OSM roads into flat CSR arrays, pruned to the largest SCC.

import { haversineMetres } from '../fleet/geo.js';
import { largestSccMask } from './road-scc.js';

/** Minimal GeoJSON shapes we read; anything that is not a LineString is ignored. */
export interface RoadFeature {
  type?: string;
  geometry: { type: string; coordinates: unknown } | null;
  properties?: Record<string, unknown> | null;
}
export interface RoadFeatureCollection {
  type?: string;
  features: RoadFeature[];
}

/** Flat road-graph storage. Out-edges of node v are edges offsets[v] .. offsets[v+1]-1. */
export interface RoadArrays {
  /** Node latitudes and longitudes, degrees. */
  lat: Float64Array;
  lng: Float64Array;
  /** CSR row starts, length nodeCount + 1. */
  offsets: Int32Array;
  /** Edge target node per edge. */
  targets: Int32Array;
  /** Edge length per edge, metres (haversine). */
  metres: Float32Array;
  /** Edge free-flow speed per edge, metres per second. */
  speedsMps: Float32Array;
  /** Size of the graph before pruning to the largest strongly connected component. */
  inputNodeCount: number;
  inputEdgeCount: number;
}

/** Default speeds, km/h, by OSM highway class ("_link" roads use their parent class). */
const DEFAULT_KMH: Record<string, number> = {
  motorway: 80,
  trunk: 80,
  primary: 50,
  secondary: 50,
  tertiary: 40,
  residential: 30,
  service: 20,
  living_street: 10,
  unclassified: 30,
};
const OTHER_KMH = 30;

/** Node key precision: 1e-7 degrees (~1 cm), the precision OSM stores coordinates at. */
const KEY_SCALE = 1e7;

/** Free-flow speed, km/h, from an OSM maxspeed tag ("50", "30 mph") or the highway class default. */
export function roadSpeedKmh(highway: unknown, maxspeed: unknown): number {
  if (typeof maxspeed === 'string' || typeof maxspeed === 'number') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(mph)?\s*$/i.exec(String(maxspeed));
    if (m) {
      const v = Number(m[1]) * (m[2] ? 1.609344 : 1);
      if (v > 0) return v;
    }
    // Non-numeric values ("FR:urban", "signals", "none") fall through to the class default.
  }
  const cls = typeof highway === 'string' ? highway.replace(/_link$/, '') : '';
  return DEFAULT_KMH[cls] ?? OTHER_KMH;
}

/**
 * Allowed directions along a way's coordinate order: 1 = forward, 2 = backward, 3 = both.
 * Roundabouts are implicitly one-way in OSM unless tagged oneway=no.
 */
export function roadDirections(props: Record<string, unknown>): number {
  const oneway = typeof props.oneway === 'string' ? props.oneway.toLowerCase() : undefined;
  if (oneway === '-1' || oneway === 'reverse') return 2;
  if (oneway === 'yes' || oneway === 'true' || oneway === '1') return 1;
  if (oneway === 'no' || oneway === 'false' || oneway === '0') return 3;
  if (props.junction === 'roundabout' || props.junction === 'circular') return 1;
  return 3;
}

/** Counting sort of edges by source node: returns CSR offsets and, per CSR slot, the input edge index. */
function csrOrder(nodeCount: number, src: ArrayLike<number>, edgeCount: number): { offsets: Int32Array; order: Int32Array } {
  const offsets = new Int32Array(nodeCount + 1);
  for (let e = 0; e < edgeCount; e++) offsets[src[e] + 1]++;
  for (let v = 0; v < nodeCount; v++) offsets[v + 1] += offsets[v];
  const fill = offsets.slice(0, nodeCount);
  const order = new Int32Array(edgeCount);
  for (let e = 0; e < edgeCount; e++) order[fill[src[e]]++] = e;
  return { offsets, order };
}

/** Builds the road graph arrays: split at shared coordinates, directed by oneway, pruned to the largest SCC. */
export function buildRoadArrays(fc: RoadFeatureCollection): RoadArrays {
  const keyToNode = new Map<string, number>();
  const lats: number[] = [];
  const lngs: number[] = [];
  const src: number[] = [];
  const dst: number[] = [];
  const len: number[] = [];
  const spd: number[] = [];

  const nodeFor = (lng: number, lat: number): number => {
    const key = `${Math.round(lng * KEY_SCALE)},${Math.round(lat * KEY_SCALE)}`;
    let id = keyToNode.get(key);
    if (id === undefined) {
      id = lats.length;
      keyToNode.set(key, id);
      lats.push(lat);
      lngs.push(lng);
    }
    return id;
  };

  for (const f of fc.features ?? []) {
    const geom = f?.geometry;
    if (!geom || geom.type !== 'LineString' || !Array.isArray(geom.coordinates)) continue;
    const props = f.properties ?? {};
    const dirs = roadDirections(props);
    const speedMps = roadSpeedKmh(props.highway, props.maxspeed) / 3.6;
    let prev = -1;
    for (const c of geom.coordinates as unknown[]) {
      if (!Array.isArray(c) || !Number.isFinite(c[0]) || !Number.isFinite(c[1])) continue;
      const cur = nodeFor(c[0] as number, c[1] as number);
      // Repeated points (same key) would make zero-length self-loops: skip them.
      if (prev !== -1 && prev !== cur) {
        const m = haversineMetres(lats[prev], lngs[prev], lats[cur], lngs[cur]);
        if (dirs & 1) { src.push(prev); dst.push(cur); len.push(m); spd.push(speedMps); }
        if (dirs & 2) { src.push(cur); dst.push(prev); len.push(m); spd.push(speedMps); }
      }
      prev = cur;
    }
  }

  const inputNodeCount = lats.length;
  const inputEdgeCount = src.length;
  const all = csrOrder(inputNodeCount, src, inputEdgeCount);
  const allTargets = new Int32Array(inputEdgeCount);
  for (let i = 0; i < inputEdgeCount; i++) allTargets[i] = dst[all.order[i]];
  const keep = largestSccMask(inputNodeCount, all.offsets, allTargets);

  // Renumber kept nodes densely, preserving input order so ids are stable for a given file.
  const newId = new Int32Array(inputNodeCount).fill(-1);
  let nodeCount = 0;
  for (let v = 0; v < inputNodeCount; v++) if (keep[v]) newId[v] = nodeCount++;
  const lat = new Float64Array(nodeCount);
  const lng = new Float64Array(nodeCount);
  for (let v = 0; v < inputNodeCount; v++) {
    if (newId[v] >= 0) { lat[newId[v]] = lats[v]; lng[newId[v]] = lngs[v]; }
  }

  // Both endpoints inside the SCC means the edge is inside it.
  const keptEdges: number[] = [];
  const keptSrc: number[] = [];
  for (let e = 0; e < inputEdgeCount; e++) {
    const a = newId[src[e]];
    if (a >= 0 && newId[dst[e]] >= 0) { keptEdges.push(e); keptSrc.push(a); }
  }
  const { offsets, order } = csrOrder(nodeCount, keptSrc, keptEdges.length);
  const targets = new Int32Array(keptEdges.length);
  const metres = new Float32Array(keptEdges.length);
  const speedsMps = new Float32Array(keptEdges.length);
  for (let i = 0; i < order.length; i++) {
    const e = keptEdges[order[i]];
    targets[i] = newId[dst[e]];
    metres[i] = len[e];
    speedsMps[i] = spd[e];
  }
  return { lat, lng, offsets, targets, metres, speedsMps, inputNodeCount, inputEdgeCount };
}
