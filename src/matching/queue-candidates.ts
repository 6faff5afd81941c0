// Airport dispatch: a job picked up in an airport_queue zone is offered to the first eligible driver of the zone's queue, not the nearest.
import type { DispatchSettings } from '../config/dispatch-settings.js';
import type { ZoneDef } from '../catalog/zones.js';
import { DriverStatus } from '../fleet/driver-status.js';
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import type { EtaModel } from '../eta/eta-model.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Candidate } from './dispatch.js';
import type { JobDoc } from './job-repo.js';
import type { QueueMember, QueueRef, ZoneQueue } from './zone-queue.js';

/** Queue members read per dispatch step, from the head: beyond them the job falls back to normal dispatch. */
export const QUEUE_SCAN = 64;
/**
 * A member this node's fleet view does not hold is taken out only once it has been queued this long, ms:
 * before that it may be a driver whose first position has not reached this node's fleet mirror yet.
 */
export const PRUNE_AFTER_MS = 30_000;

export interface QueueCandidatesDeps {
  queue: ZoneQueue;
  /** The `airport_queue` zone holding (lat, lng) degrees in `city`, if any (ZoneIndex.find). */
  airportAt: (city: string, lat: number, lng: number) => ZoneDef | undefined;
  fleet: FleetRegistry;
  eta: EtaModel;
  metrics: Pick<Metrics, 'zoneQueueOffers'>;
  /** Take a member gone from the fleet out of its queue (QueueKeeper.leave with `pruned`). */
  prune: (driver: string, q: QueueRef) => void;
  logger: Logger;
}

/**
 * Eligible: in the job's city fleet, available, its last fix fresher than `staleMs`, serving the job's
 * product, not tried for this job (a declined or expired offer), not in `skip` (holds another offer:
 * its claim was refused a moment ago, or the batch keeps it busy). The repository's claim still decides.
 */
export class QueueCandidates {
  constructor(private readonly d: QueueCandidatesDeps) {}

  /** Whether the job's pickup lies in an airport queue zone (its queue decides the order). */
  isAirport(doc: JobDoc): boolean {
    const p = doc.rec.pickup;
    return this.d.airportAt(doc.rec.city, p.lat, p.lng) !== undefined;
  }

  /**
   * The first eligible queued driver of the job's airport zone, with its ETA to the pickup (s);
   * `undefined` when the pickup is in no airport queue zone; null when it is but no queued driver is
   * eligible (the caller falls back to normal dispatch; counted).
   */
  async first(doc: JobDoc, s: DispatchSettings, nowMs: number, skip: ReadonlySet<string>): Promise<Candidate | null | undefined> {
    const { pickup, city, product } = doc.rec;
    const zone = this.d.airportAt(city, pickup.lat, pickup.lng);
    if (!zone) return undefined;
    const q: QueueRef = { city: zone.city, zone: zone.id };
    let members: QueueMember[];
    try {
      ({ members } = await this.d.queue.list(q, 0, QUEUE_SCAN));
    } catch (err) {
      // The queue's store does not answer (a Redis failover): the rider is served by normal dispatch meanwhile.
      this.d.logger.warn({ err, zone: zone.id, job: doc.rec.id }, 'airport queue unreadable: normal dispatch');
      members = [];
    }
    const fleet = this.d.fleet.city(city);
    const mask = fleet ? fleet.offered.maskOf(product) : 0;
    for (const m of members) {
      if (!fleet) break;
      const slot = fleet.slotOf(m.driver);
      if (slot < 0) {
        if (nowMs - m.joined > PRUNE_AFTER_MS) this.d.prune(m.driver, q);
        continue;
      }
      if (fleet.status[slot] !== DriverStatus.available || fleet.ts[slot]! < nowMs - s.staleMs) continue;
      if ((fleet.products[slot]! & mask) === 0 || skip.has(m.driver) || doc.tried.includes(m.driver)) continue;
      this.d.metrics.zoneQueueOffers.inc({ source: 'queue' });
      return { id: m.driver, eta: this.d.eta.seconds(fleet.lat[slot]!, fleet.lng[slot]!, pickup.lat, pickup.lng, nowMs) };
    }
    this.d.metrics.zoneQueueOffers.inc({ source: 'fallback' });
    return null;
  }
}
