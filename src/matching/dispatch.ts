// Dispatch: find the best candidate driver for a job and claim it, one offer at a time.
import type { DispatchSettings } from '../config/dispatch-settings.js';
import { DriverStatus, NearestResult } from '../fleet/city-fleet.js';
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import type { EtaModel } from '../eta/eta-model.js';
import type { JobDoc } from './job-repo.js';

/** Nearest drivers examined per search; the best ETA among them gets the offer. */
export const CANDIDATES = 16;

export interface Candidate { id: string; eta: number }

/**
 * Candidate search over the local fleet view. Filters: serves the job's product (a bit test on the
 * fleet's product column, inside nearest()), status available, last fix fresher than the
 * stale threshold, not already tried for this job, not in `skip` (claim refused a moment ago). The
 * claim itself (repo commit) is what guarantees one offer per driver; this only ranks.
 */
export class CandidateFinder {
  private readonly near = new NearestResult(CANDIDATES);
  private readonly etas = new Float64Array(CANDIDATES);
  constructor(private readonly fleet: FleetRegistry, private readonly eta: EtaModel) {}

  best(doc: JobDoc, s: DispatchSettings, nowMs: number, skip: ReadonlySet<string>): Candidate | null {
    const fleet = this.fleet.city(doc.rec.city);
    if (!fleet) return null;
    // A product the city does not offer (0) has no driver: never fall back to "any driver".
    const mask = fleet.offered.maskOf(doc.rec.product);
    if (mask === 0) return null;
    const freshAfter = nowMs - s.staleMs;
    const tried = doc.tried;
    const filter = (slot: number): boolean => {
      if (fleet.status[slot] !== DriverStatus.available || fleet.ts[slot]! < freshAfter) return false;
      const id = fleet.idAt(slot);
      return !skip.has(id) && !tried.includes(id);
    };
    const { pickup } = doc.rec;
    const n = fleet.nearest(pickup.lat, pickup.lng, CANDIDATES, s.radiusM, filter, this.near, mask);
    this.eta.secondsMany(fleet.lat, fleet.lng, this.near.slots, n, pickup.lat, pickup.lng, nowMs, this.etas);
    let bestSlot = -1;
    let bestEta = Infinity;
    for (let i = 0; i < n; i++) {
      if (this.etas[i]! < bestEta) {
        bestEta = this.etas[i]!;
        bestSlot = this.near.slots[i]!;
      }
    }
    return bestSlot < 0 ? null : { id: fleet.idAt(bestSlot), eta: bestEta };
  }
}
