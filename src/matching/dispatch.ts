// Dispatch candidates: the nearest eligible drivers of a job, ranked by ETA (greedy takes the best; batched takes all k).
import type { DispatchSettings } from '../config/dispatch-settings.js';
import { DriverStatus, NearestResult } from '../fleet/city-fleet.js';
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import type { EtaModel } from '../eta/eta-model.js';
import type { JobDoc } from './job-repo.js';

/** Nearest drivers examined per search (greedy offers the best ETA among them; batched puts all of them in the graph). */
export const CANDIDATES = 16;

export interface Candidate { id: string; eta: number }

/** Candidates of one job, in nearest-first order: fleet slots, driver ids and ETAs (s); `n` of them are valid. */
export interface CandidateList {
  n: number;
  slots: Int32Array;
  ids: string[];
  etas: Float64Array;
}

export function newCandidateList(): CandidateList {
  return { n: 0, slots: new Int32Array(CANDIDATES), ids: [], etas: new Float64Array(CANDIDATES) };
}

/**
 * Candidate search over the local fleet view. Filters: serves the job's product (a bit test on the
 * fleet's product column, inside nearest()), status available, last fix fresher than the
 * stale threshold, not already tried for this job, not in `skip` (claim refused a moment ago). The
 * claim itself (repo commit) is what guarantees one offer per driver; this only ranks.
 */
export class CandidateFinder {
  private readonly near = new NearestResult(CANDIDATES);
  private readonly one = newCandidateList();
  constructor(private readonly fleet: FleetRegistry, private readonly eta: EtaModel) {}

  /** The candidate with the lowest ETA within `radiusM` metres of the pickup, or null. */
  best(doc: JobDoc, s: DispatchSettings, nowMs: number, skip: ReadonlySet<string>, radiusM: number): Candidate | null {
    const c = this.all(doc, s, nowMs, skip, radiusM, this.one);
    let best = -1;
    for (let i = 0; i < c.n; i++) if (best < 0 || c.etas[i]! < c.etas[best]!) best = i;
    return best < 0 ? null : { id: c.ids[best]!, eta: c.etas[best]! };
  }

  /** Up to CANDIDATES eligible drivers within `radiusM` metres of the pickup, into `out`. */
  all(doc: JobDoc, s: DispatchSettings, nowMs: number, skip: ReadonlySet<string>, radiusM: number, out: CandidateList): CandidateList {
    out.n = 0;
    out.ids.length = 0;
    const fleet = this.fleet.city(doc.rec.city);
    if (!fleet) return out;
    // A product the city does not offer (0) has no driver: never fall back to "any driver".
    const mask = fleet.offered.maskOf(doc.rec.product);
    if (mask === 0) return out;
    const freshAfter = nowMs - s.staleMs;
    const tried = doc.tried;
    const filter = (slot: number): boolean => {
      if (fleet.status[slot] !== DriverStatus.available || fleet.ts[slot]! < freshAfter) return false;
      const id = fleet.idAt(slot);
      return !skip.has(id) && !tried.includes(id);
    };
    const { pickup } = doc.rec;
    const n = fleet.nearest(pickup.lat, pickup.lng, CANDIDATES, radiusM, filter, this.near, mask);
    this.eta.secondsMany(fleet.lat, fleet.lng, this.near.slots, n, pickup.lat, pickup.lng, nowMs, out.etas);
    for (let i = 0; i < n; i++) {
      out.slots[i] = this.near.slots[i]!;
      out.ids.push(fleet.idAt(this.near.slots[i]!));
    }
    out.n = n;
    return out;
  }
}
