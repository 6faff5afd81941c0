// Shared state of the demo simulation: road graph, service area, counters and cancellable timers.
import { haversineMetres } from '../fleet/geo.js';
import type { Logger } from '../observability/logger.js';
import type { RoadGraph } from './road-graph.js';
import { mulberry32 } from '../util/random.js';

/** Small seeded PRNG so a run can be replayed with --seed. */
export const seededRandom = mulberry32;

/** Centre of the simulated service area (Monaco, Place du Casino), degrees. */
export const AREA_CENTRE = { lat: 43.7384, lng: 7.4246 };
/**
 * Radius of the service area, metres. The roads file reaches into France (about 11 x 6 km); keeping
 * cars and riders within Monaco keeps trips at a few minutes, like real Monaco rides.
 */
export const AREA_RADIUS_M = 1500;

/** Counters the status line and the test read; only ever incremented by the sim. */
export interface SimCounters {
  fixesSent: number;
  /** `err` frames received, failed HTTP calls and unexpected socket closes. */
  errors: number;
  offers: number;
  accepted: number;
  declined: number;
  revoked: number;
  tripsCompleted: number;
  ridersSpawned: number;
  riderCancels: number;
  posFrames: number;
  /** Jobs that reached a final state, as seen by their riders. */
  finals: { completed: number; cancelled: number; unfulfilled: number };
}

export interface SimSettings {
  drivers: number;
  ridersPerMin: number;
  /** Multiplies simulated driving speed and boarding time (1 = real time). */
  speed: number;
  /** Longest rider trip, seconds of free-flow driving at speed 1. */
  tripS: number;
  httpBase: string;
  wsBase: string;
}

/**
 * Headers for the sim's HTTP calls. `connection: close` because idle keep-alive sockets in fetch's
 * pool would hold the process open for ~4 s after the demo has stopped.
 */
export function simHeaders(token?: string): Record<string, string> {
  const h: Record<string, string> = { connection: 'close', 'content-type': 'application/json' };
  if (token) h.authorization = `Bearer ${token}`;
  return h;
}


export class SimWorld {
  readonly counters: SimCounters = {
    fixesSent: 0, errors: 0, offers: 0, accepted: 0, declined: 0, revoked: 0, tripsCompleted: 0,
    ridersSpawned: 0, riderCancels: 0, posFrames: 0, finals: { completed: 0, cancelled: 0, unfulfilled: 0 },
  };
  /** Live (non-final) jobs → their latest state, as seen by the riders. */
  readonly jobStates = new Map<string, string>();
  /** Node ids inside the service area. */
  readonly area: Int32Array;
  /** When the simulation started (drivers connected, riders about to arrive), ms since the epoch. */
  startedAt = Date.now();
  /** When a rider first saw its job completed, ms since the epoch; undefined until then. */
  firstCompletedAt: number | undefined;
  stopped = false;
  private readonly timeouts = new Set<NodeJS.Timeout>();

  constructor(readonly graph: RoadGraph, readonly settings: SimSettings, readonly rand: () => number, readonly log: Logger) {
    const ids: number[] = [];
    for (let i = 0; i < graph.nodeCount; i++) {
      if (haversineMetres(graph.nodeLat(i), graph.nodeLng(i), AREA_CENTRE.lat, AREA_CENTRE.lng) <= AREA_RADIUS_M) ids.push(i);
    }
    this.area = Int32Array.from(ids.length > 0 ? ids : [...Array(graph.nodeCount).keys()]);
  }

  /** A random node of the service area. */
  randomAreaNode(): number {
    return this.area[Math.min(this.area.length - 1, Math.floor(this.rand() * this.area.length))]!;
  }

  /** Uniform random number in [a, b). */
  between(a: number, b: number): number {
    return a + (b - a) * this.rand();
  }

  /** The road node nearest a random point within `radiusM` metres of (lat, lng). */
  nodeNear(lat: number, lng: number, radiusM: number): number {
    const r = radiusM * Math.sqrt(this.rand());
    const a = this.rand() * 2 * Math.PI;
    const dLat = (r * Math.cos(a)) / 111_195;
    const dLng = (r * Math.sin(a)) / (111_195 * Math.cos((lat * Math.PI) / 180));
    return this.graph.nearestNode(lat + dLat, lng + dLng);
  }

  /** setTimeout that stop() cancels, and that never fires after stop. */
  later(ms: number, fn: () => void): NodeJS.Timeout {
    const h = setTimeout(() => {
      this.timeouts.delete(h);
      if (!this.stopped) fn();
    }, ms);
    this.timeouts.add(h);
    return h;
  }

  cancel(h: NodeJS.Timeout | null): void {
    if (h === null) return;
    clearTimeout(h);
    this.timeouts.delete(h);
  }

  /**
   * A job's state as told to its rider (`first`: the POST answer): keeps the live map and final
   * counters current, counting each job's final state once although snapshots may repeat it.
   */
  jobState(job: string, state: string, first = false): void {
    if (state === 'completed' || state === 'cancelled' || state === 'unfulfilled') {
      if (this.jobStates.delete(job) || first) {
        this.counters.finals[state]++;
        if (state === 'completed') this.firstCompletedAt ??= Date.now();
      }
      return;
    }
    this.jobStates.set(job, state);
  }

  stop(): void {
    this.stopped = true;
    for (const h of this.timeouts) clearTimeout(h);
    this.timeouts.clear();
  }
}
