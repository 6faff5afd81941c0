// Builds the server frames about jobs (job, offer, pos), encoded once for every recipient.
import { encodeFrame, msInt } from '../protocol/codec.js';
import type { JobRecord } from '../protocol/job-record.js';

export interface DriverPoint { id: string; lat: number; lng: number }

/** The fields of a `job` frame (without `t`): also one entry of an ops `jobs` snapshot. */
export function jobEntry(rec: JobRecord, driver: DriverPoint | { id: string } | undefined): Record<string, unknown> {
  return {
    job: rec.id,
    state: rec.state,
    driver,
    eta_s: rec.eta_s,
    ts: msInt(rec.updated_ts),
    rider: rec.rider,
    pickup: rec.pickup,
    dropoff: rec.dropoff,
    product: rec.product,
    created_ts: msInt(rec.created_ts),
    city: rec.city,
  };
}

/** `{t:"job", job, state, driver?, eta_s?, ts}` plus the job's other public fields. */
export function jobFrame(rec: JobRecord, driver: DriverPoint | undefined): Buffer {
  return encodeFrame({ t: 'job', ...jobEntry(rec, driver) });
}

/** `{t:"offer", job, pickup, dropoff, eta_s, expires_ts}`. */
export function offerFrame(rec: JobRecord, etaS: number, expiresTs: number): Buffer {
  return encodeFrame({ t: 'offer', job: rec.id, pickup: rec.pickup, dropoff: rec.dropoff, eta_s: etaS, expires_ts: msInt(expiresTs), product: rec.product });
}

/** Extension: an offer this driver holds is gone (expired, or the rider cancelled). */
export function offerRevokedFrame(job: string, reason: 'expired' | 'cancelled'): Buffer {
  return encodeFrame({ t: 'offer_revoked', job, reason });
}

/** `{t:"pos", job, lat, lng, hdg?, ts, eta_s?}`. */
export function posFrame(job: string, lat: number, lng: number, hdg: number, ts: number, etaS: number | undefined): Buffer {
  return encodeFrame({ t: 'pos', job, lat, lng, hdg: Number.isNaN(hdg) ? undefined : hdg, ts: msInt(ts), eta_s: etaS });
}
