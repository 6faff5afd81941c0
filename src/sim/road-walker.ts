// Moves a simulated vehicle along a Route at each edge's free-flow speed, interpolating its position.

import type { RoadGraph, Route } from './road-graph.js';

const DEG = Math.PI / 180;

/** Initial great-circle bearing from point 1 to point 2, degrees in [0, 360), 0 = north, clockwise. */
export function bearingDeg(lat1: number, lng1: number, lat2: number, lng2: number): number {
  const p1 = lat1 * DEG;
  const p2 = lat2 * DEG;
  const dl = (lng2 - lng1) * DEG;
  const y = Math.sin(dl) * Math.cos(p2);
  const x = Math.cos(p1) * Math.sin(p2) - Math.sin(p1) * Math.cos(p2) * Math.cos(dl);
  const deg = Math.atan2(y, x) / DEG;
  // ((deg % 360) + 360) % 360 can return 360 for tiny negative deg; clamp that back to 0.
  const norm = ((deg % 360) + 360) % 360;
  return norm >= 360 ? 0 : norm;
}

/**
 * Walks a route: segment i runs from route.nodes[i] to route.nodes[i+1] over the graph's fastest
 * edge between them, at that edge's speed times `speedFactor`. Positions are linear in lat/lng within
 * a segment (edges are metres long, so the error is negligible).
 */
export class RouteWalker {
  private curLat: number;
  private curLng: number;
  private heading = 0;
  private speed = 0;
  private arrived = false;

  private readonly nodes: Int32Array;
  /** Per segment: length (metres) and speed (m/s, already scaled by speedFactor). */
  private readonly segMetres: Float64Array;
  private readonly segSpeedMps: Float64Array;
  private readonly totalMetres: number;
  private seg = 0;
  /** Distance covered within the current segment, metres. */
  private segOffset = 0;
  private travelled = 0;

  constructor(private readonly graph: RoadGraph, route: Route, speedFactor = 1) {
    if (!(speedFactor > 0) || !Number.isFinite(speedFactor)) throw new RangeError(`speedFactor must be > 0, got ${speedFactor}`);
    this.nodes = route.nodes;
    const segs = Math.max(0, route.nodes.length - 1);
    this.segMetres = new Float64Array(segs);
    this.segSpeedMps = new Float64Array(segs);
    let total = 0;
    for (let i = 0; i < segs; i++) {
      const e = graph.fastestEdge(route.nodes[i], route.nodes[i + 1]);
      if (e < 0) throw new Error(`route nodes ${route.nodes[i]} -> ${route.nodes[i + 1]} are not joined by an edge`);
      this.segMetres[i] = graph.metres[e];
      this.segSpeedMps[i] = graph.speedsMps[e] * speedFactor;
      total += graph.metres[e];
    }
    this.totalMetres = total;
    const start = route.nodes.length > 0 ? route.nodes[0] : -1;
    this.curLat = start >= 0 ? graph.nodeLat(start) : NaN;
    this.curLng = start >= 0 ? graph.nodeLng(start) : NaN;
    if (segs === 0) {
      this.arrived = true;
    } else {
      this.speed = this.segSpeedMps[0];
      this.heading = this.segmentHeading(0);
    }
  }

  /** Current latitude, degrees. */
  get lat(): number {
    return this.curLat;
  }

  /** Current longitude, degrees. */
  get lng(): number {
    return this.curLng;
  }

  /** Direction of travel, degrees [0, 360), 0 = north, clockwise; keeps the last segment's on arrival. */
  get headingDeg(): number {
    return this.heading;
  }

  /** Current speed, metres per second (0 once arrived). */
  get speedMps(): number {
    return this.speed;
  }

  /** True once the end of the route is reached. */
  get done(): boolean {
    return this.arrived;
  }

  /** Metres still to go to the end of the route. */
  get remainingMetres(): number {
    return Math.max(0, this.totalMetres - this.travelled);
  }

  /** Metres covered since the start. */
  get travelledMetres(): number {
    return this.travelled;
  }

  /** Index of the segment being driven (route.nodes[segment] -> route.nodes[segment+1]). */
  get segment(): number {
    return this.seg;
  }

  /** Speed of segment `i`, metres per second, including the speed factor. */
  segmentSpeedMps(i: number): number {
    return this.segSpeedMps[i];
  }

  /** Moves forward by `dtSeconds` of driving; returns false once arrived (including on this call). */
  advance(dtSeconds: number): boolean {
    if (this.arrived) return false;
    let budget = dtSeconds > 0 ? dtSeconds : 0;
    const segs = this.segMetres.length;
    while (budget > 0 && this.seg < segs) {
      const left = this.segMetres[this.seg] - this.segOffset;
      const speed = this.segSpeedMps[this.seg];
      const need = left / speed;
      if (need <= budget) {
        budget -= need;
        this.travelled += left;
        this.seg++;
        this.segOffset = 0;
      } else {
        const step = speed * budget;
        this.segOffset += step;
        this.travelled += step;
        budget = 0;
      }
    }
    if (this.seg >= segs) {
      this.arrive();
      return false;
    }
    this.place();
    return true;
  }

  /** Sets lat/lng/heading/speed from the current segment and offset. */
  private place(): void {
    const a = this.nodes[this.seg];
    const b = this.nodes[this.seg + 1];
    const f = this.segOffset / this.segMetres[this.seg];
    const g = this.graph;
    this.curLat = g.nodeLat(a) + (g.nodeLat(b) - g.nodeLat(a)) * f;
    this.curLng = g.nodeLng(a) + (g.nodeLng(b) - g.nodeLng(a)) * f;
    this.heading = this.segmentHeading(this.seg);
    this.speed = this.segSpeedMps[this.seg];
  }

  private arrive(): void {
    const last = this.nodes[this.nodes.length - 1];
    this.curLat = this.graph.nodeLat(last);
    this.curLng = this.graph.nodeLng(last);
    this.travelled = this.totalMetres;
    this.speed = 0;
    this.arrived = true;
  }

  private segmentHeading(i: number): number {
    const g = this.graph;
    const a = this.nodes[i];
    const b = this.nodes[i + 1];
    return bearingDeg(g.nodeLat(a), g.nodeLng(a), g.nodeLat(b), g.nodeLng(b));
  }
}
