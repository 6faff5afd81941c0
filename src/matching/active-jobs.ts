// Active jobs: which driver has which assigned job (as this node last heard), and the rider `pos` relay it drives.
import type { EtaModel } from '../eta/eta-model.js';
import type { JobRecord } from '../protocol/job-record.js';
import type { JobNotifier } from '../bus/deliveries.js';
import type { Clock } from '../util/clock.js';
import { ASSIGNED_STATES } from './job-states.js';
import { PosRelay } from './pos-relay.js';

/**
 * A cache learned from job events, which every node receives: a node relays `pos` for the drivers whose
 * fixes it ingests, whichever node committed their job. Not authoritative (the job repository is).
 */
export class ActiveJobs {
  private readonly byDriver = new Map<string, JobRecord>();
  private readonly pos: PosRelay;

  constructor(notifier: JobNotifier, eta: EtaModel, clock?: Clock) {
    this.pos = new PosRelay(notifier, eta, clock);
  }

  /** Remember `rec`, read from the repository as `driver`'s active job on its (re)connect, if it is assigned. */
  remember(driver: string, rec: JobRecord): void {
    if (ASSIGNED_STATES.has(rec.state)) this.byDriver.set(driver, rec);
  }

  /** Delivery hook: every job event on every node keeps the cache current. */
  jobChanged(rec: JobRecord): void {
    if (rec.driver && ASSIGNED_STATES.has(rec.state)) {
      this.byDriver.set(rec.driver, rec);
      // The relay's ETA target follows the state (pickup, none, dropoff), also for a send already waiting.
      this.pos.jobChanged(rec);
    } else {
      for (const [drv, r] of this.byDriver) if (r.id === rec.id) this.byDriver.delete(drv);
      this.pos.forget(rec.id);
    }
  }

  /** Whether `driver` has an assigned job (as this node last heard). */
  onTrip(driver: string): boolean {
    return this.byDriver.has(driver);
  }

  /** A fix moved `driver` (on this node; degrees, ms): if it has an assigned job, its rider gets a throttled `pos`. */
  onDriverMove(driver: string, lat: number, lng: number, hdg: number, ts: number): void {
    const rec = this.byDriver.get(driver);
    if (rec) this.pos.moved(rec, lat, lng, hdg, ts);
  }

  stop(): void {
    this.pos.stop();
  }
}
