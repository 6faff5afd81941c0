// Reactions of trips to telemetry: fixes of drivers on a job feed the rider's `pos` and the ETA speed grid; completed jobs teach ETA.
import type { FleetRegistry, RemoteMoveListener } from '../fleet/fleet-registry.js';
import type { MoveListener } from '../ingest/ingest.js';
import type { JobRecord } from '../storage/ports.js';

/** What the reactions ask of the job side (JobService): who is on a job, and the rider `pos` relay. */
export interface TripWatch {
  /** Whether `driver` has an assigned job (as this node last heard). */
  onTrip(driver: string): boolean;
  /** A fix moved `driver` on this node (degrees, ms): its rider gets a throttled `pos` when it has a job. */
  onDriverMove(driver: string, lat: number, lng: number, hdg: number, ts: number): void;
}

/** What the reactions feed on the ETA side (EtaService). */
export interface TripLearner {
  /** A live fix of a driver on a trip (degrees, ms since the epoch). */
  observeFix(city: string | null, driver: string, lat: number, lng: number, tsMs: number): void;
  /** A completed job, ended at (endLat, endLng) degrees. */
  tripCompleted(rec: JobRecord, endLat: number, endLng: number): void;
}

/**
 * Ingest move listener: every live fix goes to the job side (the rider's `pos`, when the driver has a job),
 * and fixes of drivers on a job inside a city teach that city's speed grid. Only drivers on a job teach
 * speeds: parked, waiting cars would teach 0 m/s. Allocates nothing per fix.
 */
export function fixTelemetry(trips: TripWatch, eta: Pick<TripLearner, 'observeFix'>): MoveListener {
  return (driver, fleet, fix) => {
    trips.onDriverMove(driver, fix.lat, fix.lng, fix.hdg, fix.ts);
    if (fleet && trips.onTrip(driver)) eta.observeFix(fleet.name, driver, fix.lat, fix.lng, fix.ts);
  };
}

/**
 * Fleet remote-move listener (cluster mode): positions mirrored from other nodes of drivers on a job teach
 * this node's speed grid too, so every node learns from every car. No `pos` here: the node holding the
 * driver's socket relays those.
 */
export function mirroredFixTelemetry(trips: Pick<TripWatch, 'onTrip'>, eta: Pick<TripLearner, 'observeFix'>): RemoteMoveListener {
  return (driver, city, lat, lng, ts) => {
    if (trips.onTrip(driver)) eta.observeFix(city, driver, lat, lng, ts);
  };
}

/**
 * Job recorded-listener: a completed job is a real trip, learned from its pickup to where the driver
 * completed it (its live position, else the job's dropoff; neither known: nothing is learned).
 */
export function tripLearning(fleet: Pick<FleetRegistry, 'position'>, eta: Pick<TripLearner, 'tripCompleted'>): (rec: JobRecord) => void {
  return (rec) => {
    if (rec.state !== 'completed' || !rec.driver) return;
    const end = fleet.position(rec.driver) ?? rec.dropoff;
    if (end) eta.tripCompleted(rec, end.lat, end.lng);
  };
}
