// Directed road graph (CSR typed arrays) with nearest-node lookup and fastest-route A* search.

import { readFileSync } from 'node:fs';
import { packagePath } from '../util/package-root.js';
import { haversineMetres } from '../fleet/geo.js';
import { buildRoadArrays, type RoadFeatureCollection } from './road-build.js';
import { NodeHeap } from './road-heap.js';

export type { RoadFeatureCollection } from './road-build.js';

/** A path through the graph: node ids from start to end, total length (metres) and free-flow time (seconds). */
export interface Route {
  nodes: Int32Array;
  metres: number;
  seconds: number;
}

/** Path of the bundled Monaco roads file (assets/monaco/roads.geojson at the package root). */
export function defaultMonacoRoadsPath(): string {
  return packagePath('assets', 'monaco', 'roads.geojson');
}

/**
 * Road network as a directed graph. Nodes are unique coordinates (roads are split wherever they share
 * one); only the largest strongly connected component is kept, so every node can reach every other.
 * Out-edges of node v are edge ids offsets[v] .. offsets[v+1]-1. Not safe for concurrent route()
 * calls from worker threads sharing one instance (search scratch space is reused), fine on one thread.
 */
export class RoadGraph {
  /** Node latitudes and longitudes, degrees. */
  readonly lat: Float64Array;
  readonly lng: Float64Array;
  /** CSR row starts (length nodeCount + 1) and edge targets. */
  readonly offsets: Int32Array;
  readonly targets: Int32Array;
  /** Per-edge length, metres, and free-flow speed, metres per second. */
  readonly metres: Float32Array;
  readonly speedsMps: Float32Array;
  /** Graph size before pruning to the largest strongly connected component. */
  readonly inputNodeCount: number;
  readonly inputEdgeCount: number;
  /** Fastest edge speed, m/s: bounds the A* heuristic so it never overestimates. */
  readonly maxSpeedMps: number;

  // Search scratch, reused across route() calls; `stamp` marks entries valid for the current search.
  private readonly heap: NodeHeap;
  private readonly gSeconds: Float64Array;
  private readonly prevNode: Int32Array;
  private readonly seenAt: Uint32Array;
  private readonly closedAt: Uint32Array;
  private stamp = 0;

  constructor(geojson: RoadFeatureCollection) {
    const a = buildRoadArrays(geojson);
    this.lat = a.lat;
    this.lng = a.lng;
    this.offsets = a.offsets;
    this.targets = a.targets;
    this.metres = a.metres;
    this.speedsMps = a.speedsMps;
    this.inputNodeCount = a.inputNodeCount;
    this.inputEdgeCount = a.inputEdgeCount;
    let max = 0;
    for (let e = 0; e < a.speedsMps.length; e++) if (a.speedsMps[e] > max) max = a.speedsMps[e];
    this.maxSpeedMps = max;
    const n = a.lat.length;
    this.heap = new NodeHeap(n);
    this.gSeconds = new Float64Array(n);
    this.prevNode = new Int32Array(n);
    this.seenAt = new Uint32Array(n);
    this.closedAt = new Uint32Array(n);
  }

  /** Reads and builds a graph from a GeoJSON file (synchronous; the Monaco file is ~0.7 MB). */
  static fromFile(path: string | URL): RoadGraph {
    return new RoadGraph(JSON.parse(readFileSync(path, 'utf8')) as RoadFeatureCollection);
  }

  get nodeCount(): number {
    return this.lat.length;
  }

  get edgeCount(): number {
    return this.targets.length;
  }

  nodeLat(i: number): number {
    return this.lat[i];
  }

  nodeLng(i: number): number {
    return this.lng[i];
  }

  /** Free-flow travel time of edge `e`, seconds. */
  edgeSeconds(e: number): number {
    return this.metres[e] / this.speedsMps[e];
  }

  /** The quickest edge from `from` to `to` (parallel roads may exist), or -1 if they are not adjacent. */
  fastestEdge(from: number, to: number): number {
    let best = -1;
    let bestSeconds = Infinity;
    for (let e = this.offsets[from]; e < this.offsets[from + 1]; e++) {
      if (this.targets[e] !== to) continue;
      const s = this.edgeSeconds(e);
      if (s < bestSeconds) { bestSeconds = s; best = e; }
    }
    return best;
  }

  /** Closest node to a point (degrees), by equirectangular distance; linear scan. -1 on an empty graph. */
  nearestNode(lat: number, lng: number): number {
    const kx = Math.cos((lat * Math.PI) / 180);
    let best = -1;
    let bestD2 = Infinity;
    for (let i = 0; i < this.lat.length; i++) {
      const dx = (this.lng[i] - lng) * kx;
      const dy = this.lat[i] - lat;
      const d2 = dx * dx + dy * dy;
      if (d2 < bestD2) { bestD2 = d2; best = i; }
    }
    return best;
  }

  /** A uniformly random node id, using `rand` (returns [0, 1)) so callers can seed it. */
  randomNode(rand: () => number): number {
    const n = this.lat.length;
    return Math.min(n - 1, Math.floor(rand() * n));
  }

  /**
   * Fastest route by free-flow travel time (A*: straight-line distance at the top speed is a lower
   * bound on the remaining time). Null if either id is out of range or `to` is unreachable (cannot
   * happen for valid ids, since the graph is one strongly connected component).
   */
  route(from: number, to: number): Route | null {
    const n = this.lat.length;
    if (!(from >= 0 && from < n && to >= 0 && to < n) || !Number.isInteger(from) || !Number.isInteger(to)) return null;
    if (++this.stamp === 0xffffffff) this.resetStamps();
    const stamp = this.stamp;
    const { offsets, targets, gSeconds, prevNode, seenAt, closedAt, heap } = this;
    const goalLat = this.lat[to];
    const goalLng = this.lng[to];
    // Shrunk a hair so float32 edge lengths can never make the heuristic inconsistent.
    const invTop = (1 - 1e-6) / this.maxSpeedMps;
    const h = (v: number): number => haversineMetres(this.lat[v], this.lng[v], goalLat, goalLng) * invTop;

    heap.clear();
    gSeconds[from] = 0;
    prevNode[from] = -1;
    seenAt[from] = stamp;
    heap.pushOrDecrease(from, h(from));
    let found = false;
    while (heap.size > 0) {
      const u = heap.pop();
      if (u === to) { found = true; break; }
      closedAt[u] = stamp;
      const gu = gSeconds[u];
      for (let e = offsets[u]; e < offsets[u + 1]; e++) {
        const v = targets[e];
        if (closedAt[v] === stamp) continue;
        const g = gu + this.metres[e] / this.speedsMps[e];
        if (seenAt[v] !== stamp || g < gSeconds[v]) {
          seenAt[v] = stamp;
          gSeconds[v] = g;
          prevNode[v] = u;
          heap.pushOrDecrease(v, g + h(v));
        }
      }
    }
    if (!found) return null;

    let hops = 0;
    for (let v = to; v !== from; v = prevNode[v]) hops++;
    const nodes = new Int32Array(hops + 1);
    for (let v = to, i = hops; i >= 0; v = prevNode[v], i--) nodes[i] = v;
    // Totals re-derived from fastestEdge so they match exactly what RouteWalker will traverse.
    let metres = 0;
    let seconds = 0;
    for (let i = 0; i < hops; i++) {
      const e = this.fastestEdge(nodes[i], nodes[i + 1]);
      metres += this.metres[e];
      seconds += this.edgeSeconds(e);
    }
    return { nodes, metres, seconds };
  }

  private resetStamps(): void {
    this.seenAt.fill(0);
    this.closedAt.fill(0);
    this.stamp = 1;
  }
}
