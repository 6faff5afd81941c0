// Airport queue membership: available drivers inside an airport_queue zone join its queue; exit, offline, a job or the zone's end take them out.
import type { CatalogListener } from '../catalog/city-catalog.js';
import type { ZoneDef } from '../catalog/zones.js';
import { DriverStatus } from '../fleet/driver-status.js';
import type { DriverStatusCode } from '../fleet/driver-status.js';
import type { StatusListener } from '../fleet/fleet-registry.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Clock, ClockTimer } from '../util/clock.js';
import type { ZoneListener } from './zone-watch.js';
import type { QueueRef, ZoneQueue } from './zone-queue.js';

/** Why a driver left its queue (the `reason` label of taxiway_zone_queue_leaves_total). */
export type LeaveReason = 'exit' | 'offline' | 'busy' | 'pruned' | 'zone';

export interface QueueKeeperDeps {
  queue: ZoneQueue;
  /** A driver's status on this node's fleet view. */
  statusOf: (driver: string) => DriverStatusCode;
  /** The zone this node's zone watch has the driver in (ZoneWatch.zoneOf). */
  zoneOf: (driver: string) => ZoneDef | undefined;
  /** Most drivers a queue holds (TAXIWAY_ZONE_QUEUE_MAX). */
  maxLength: number;
  /** How long a driver gone offline keeps its place for a reconnect, ms (TAXIWAY_QUEUE_OFFLINE_GRACE_MS; 0: leaves at once). */
  offlineGraceMs: number;
  metrics: Pick<Metrics, 'zoneQueueJoins' | 'zoneQueueLeaves' | 'zoneQueueLength'>;
  logger: Logger;
  clock: Clock;
  /** A queue's order or length changed: every node re-sends its drivers' `queue` frames (QueueFrames.changed). */
  changed: (q: QueueRef) => void;
  /** A driver re-joined a queue it was in (e.g. reconnected to this node): this node re-sends it its place (QueueFrames.touched). */
  touched: (q: QueueRef, driver: string) => void;
}

export const queueOf = (z: ZoneDef): QueueRef => ({ city: z.city, zone: z.id });

/**
 * Joins: an `enter` into an `airport_queue` zone by an available driver, or a driver inside one (as
 * this node's zone watch sees it) becoming available. Leaves: the zone's `exit` (after its hysteresis,
 * or on expiry), or a status other than available (offline: the driver said so or its socket closed
 * without an active job; busy: it accepted a job or said so). A declined or expired offer changes
 * nothing: the driver keeps its place (docs/protocol.md, "Airport queues"). Every operation is one
 * atomic call of the ZoneQueue; the calls of one node reach it in the order made.
 */
export class QueueKeeper {
  /** The queue this node last put each driver in (to take it out on a status change without a zone). */
  private readonly member = new Map<string, QueueRef>();
  /** Drivers gone offline whose leave waits for the grace time (cleared by `available` again). */
  private readonly grace = new Map<string, ClockTimer>();

  constructor(private readonly d: QueueKeeperDeps) {}

  readonly zoneListener: ZoneListener = (driver, zone, ev) => {
    if (zone.kind !== 'airport_queue') return;
    if (ev === 'exit') this.leave(driver, queueOf(zone), 'exit');
    else if (this.d.statusOf(driver) === DriverStatus.available) this.join(driver, queueOf(zone));
  };

  readonly statusListener: StatusListener = (driver, status) => {
    const z = this.d.zoneOf(driver);
    const inAirport = z !== undefined && z.kind === 'airport_queue';
    this.endGrace(driver);
    if (status === DriverStatus.available) {
      if (inAirport) this.join(driver, queueOf(z));
      return;
    }
    const q = this.member.get(driver) ?? (inAirport ? queueOf(z) : undefined);
    if (!q) return;
    if (status === DriverStatus.busy || this.d.offlineGraceMs === 0) {
      this.leave(driver, q, status === DriverStatus.offline ? 'offline' : 'busy');
      return;
    }
    // Offline (often a dropped socket): the place is kept for a reconnect within the grace time. Offline
    // drivers are never offered jobs meanwhile. At its end the driver leaves unless it is available again
    // (on this node, or on another node this one hears from through the fleet mirror).
    this.grace.set(driver, this.d.clock.setTimeout(() => {
      this.grace.delete(driver);
      if (this.d.statusOf(driver) !== DriverStatus.available) this.leave(driver, q, 'offline');
    }, this.d.offlineGraceMs));
  };

  /** A zone deleted, moved to another city or no longer an airport queue: its queue goes (on every node; idempotent). */
  readonly catalogListener: CatalogListener = (e) => {
    if (e.kind !== 'zone' || e.before?.kind !== 'airport_queue') return;
    if (e.after?.kind === 'airport_queue' && e.after.city === e.before.city) return;
    const q = queueOf(e.before);
    void (async () => {
      const { length } = await this.d.queue.list(q, 0, 0);
      await this.d.queue.clear(q);
      for (const [driver, m] of this.member) if (m.city === q.city && m.zone === q.zone) this.member.delete(driver);
      if (length > 0) this.d.metrics.zoneQueueLeaves.inc({ reason: 'zone' }, length);
      this.d.metrics.zoneQueueLength.remove({ zone: q.zone });
      this.d.changed(q);
    })().catch((err: unknown) => this.d.logger.warn({ err, zone: q.zone }, 'airport queue of a removed zone not cleared'));
  };

  /** Drivers left the live fleet: forget which queue this node put them in (their zone exit, if any, takes them out). */
  forget(ids: readonly string[]): void {
    for (const id of ids) this.member.delete(id);
  }

  /** Stop the grace timers (node shutdown: the queue, in Redis, outlives this node). */
  stop(): void {
    for (const t of this.grace.values()) this.d.clock.clearTimeout(t);
    this.grace.clear();
  }

  private endGrace(driver: string): void {
    const t = this.grace.get(driver);
    if (t === undefined) return;
    this.d.clock.clearTimeout(t);
    this.grace.delete(driver);
  }

  /** Take a driver out of a queue (also for drivers dispatch finds gone from the fleet: `pruned`). */
  leave(driver: string, q: QueueRef, reason: LeaveReason): void {
    const m = this.member.get(driver);
    if (m && m.city === q.city && m.zone === q.zone) this.member.delete(driver);
    this.d.queue.leave(q, driver).then((r) => {
      this.d.metrics.zoneQueueLength.set({ zone: q.zone }, r.length);
      if (!r.removed) return;
      this.d.metrics.zoneQueueLeaves.inc({ reason });
      this.d.changed(q);
    }, (err: unknown) => this.d.logger.warn({ err, driver, zone: q.zone }, 'airport queue leave failed'));
  }

  private join(driver: string, q: QueueRef): void {
    this.member.set(driver, q);
    this.d.queue.join(q, driver, this.d.clock.now(), this.d.maxLength).then((r) => {
      this.d.metrics.zoneQueueJoins.inc({ result: r.added ? 'joined' : r.full ? 'full' : 'already' });
      this.d.metrics.zoneQueueLength.set({ zone: q.zone }, r.length);
      if (r.added) this.d.changed(q);
      else if (r.full) this.member.delete(driver);
      else this.d.touched(q, driver);
    }, (err: unknown) => this.d.logger.warn({ err, driver, zone: q.zone }, 'airport queue join failed'));
  }
}
