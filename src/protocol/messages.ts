// Wire message types (docs/protocol.md): what clients send and what the server sends back.

/** Driver statuses as the wire names them (the fleet stores them as codes: fleet/driver-status.ts). */
export const DRIVER_STATUS_NAMES = ['offline', 'available', 'busy'] as const;
export type DriverStatusName = (typeof DRIVER_STATUS_NAMES)[number];
export const JOB_STATES = ['dispatching', 'accepted', 'arrived', 'in_progress', 'completed', 'cancelled', 'unfulfilled'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface LatLng { lat: number; lng: number }

/** A validated fix. Optional values are NaN when absent, so a fix is a fixed shape. */
export interface Fix { ts: number; lat: number; lng: number; hdg: number; spd: number; acc: number }

export type DriverMessage =
  | { t: 'loc'; id?: number; fix: Fix }
  | { t: 'locs'; id?: number; pts: Array<Fix | string> } // a string is the reason that point is invalid
  | { t: 'status'; id?: number; s: DriverStatusName }
  | { t: 'accept' | 'decline' | 'arrived' | 'start' | 'complete'; id?: number; job: string }
  | { t: 'cancel'; id?: number; job: string; reason?: string };

export type RiderMessage =
  | { t: 'sub'; id?: number; job: string }
  | { t: 'unsub'; id?: number; job: string };

export type OpsMessage =
  | { t: 'sub'; id?: number; city?: string }
  | { t: 'unsub'; id?: number };

export type Role = 'driver' | 'rider' | 'ops';
export const ROLES: readonly Role[] = ['driver', 'rider', 'ops'];

/** Limits of the protocol. */
export const Limits = {
  /** Largest client frame, bytes; bigger closes the socket with 1009. */
  maxFrameBytes: 64 * 1024,
  /** Frames up to this size are read and answered with a 1009 close; larger ones are dropped by uWS. */
  hardFrameBytes: 1024 * 1024,
  /** Most points in one `locs`. */
  maxLocsPoints: 1000,
  /** Bad frames in a row before the socket is closed with 1008. */
  maxBadFramesInRow: 100,
  /** How far in the future a fix's ts may be, ms. */
  maxFutureMs: 60_000,
  /** Fastest plausible movement between fixes, m/s (250 km/h). */
  maxSpeedMps: 250 / 3.6,
  /** Longest HTTP JSON body, bytes. */
  maxBodyBytes: 64 * 1024,
} as const;

/** `sub` claim and job id pattern: 1 to 64 of A-Z a-z 0-9 _ . : - */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

// ---- Frames as they travel (docs/protocol.md), shared by the client SDK (src/client) and the API documents. ----
// Times are ms since the Unix epoch (the server sends them as int64; decoded as numbers), coordinates in
// degrees (WGS84), `eta_s` in seconds, `spd` in m/s, `acc` in metres, `hdg` in degrees [0, 360).

/** A fix inside `locs`: `[ts, lat, lng, hdg?, spd?, acc?]`, missing optionals omitted or `null`. */
export type LocsPoint =
  | [ts: number, lat: number, lng: number]
  | [ts: number, lat: number, lng: number, hdg: number | null]
  | [ts: number, lat: number, lng: number, hdg: number | null, spd: number | null]
  | [ts: number, lat: number, lng: number, hdg: number | null, spd: number | null, acc: number | null];

/** Driver → server frames, wire form. */
export type DriverFrame =
  | { t: 'loc'; id?: number; lat: number; lng: number; ts: number; hdg?: number | null; spd?: number | null; acc?: number | null }
  | { t: 'locs'; id?: number; pts: LocsPoint[] }
  | { t: 'status'; id?: number; s: DriverStatusName }
  | { t: 'accept' | 'decline' | 'arrived' | 'start' | 'complete'; id?: number; job: string }
  | { t: 'cancel'; id?: number; job: string; reason?: string };

/** Rider → server frames, wire form. */
export type RiderFrame = RiderMessage;
/** Ops → server frames, wire form. */
export type OpsFrame = OpsMessage;

/** First frame on a driver socket. */
export interface HelloFrame { t: 'hello'; driver: string; interval_ms: number; server_ts: number }
/** A job offered to the driver; answer before `expires_ts`. */
export interface OfferFrame {
  t: 'offer'; job: string; pickup: LatLng; dropoff: LatLng | null; eta_s: number; expires_ts: number; product?: string;
}
/** The driver's offer ended without its answer. */
export interface OfferRevokedFrame { t: 'offer_revoked'; job: string; reason: 'expired' | 'cancelled' }
/** A job changed state (`ts` is the job's `updated_ts`). */
export interface JobFrame {
  t: 'job'; job: string; state: JobState; driver?: { id: string; lat: number; lng: number }; eta_s?: number; ts: number;
  rider?: string; pickup?: LatLng; dropoff?: LatLng | null; product?: string; created_ts?: number;
  /** The served city of the pickup (ops frames; taxiway extension). */
  city?: string;
}
/** One live job in an ops snapshot: a `job` frame without `t`; `driver` may lack a position. */
export type JobsSnapshotEntry = Omit<JobFrame, 't' | 'driver'> & { driver?: { id: string; lat?: number; lng?: number } };
/** Ops live-job snapshot, after every ops `sub` (taxiway extension); `more`: not every live job is listed. */
export interface JobsSnapshotFrame { t: 'jobs'; ts: number; city?: string; jobs: JobsSnapshotEntry[]; more: boolean }
/** Newest live position of a followed job's driver (latest-only). */
export interface PosFrame { t: 'pos'; job: string; lat: number; lng: number; hdg?: number; ts: number; eta_s?: number }
/** Ops fleet snapshot: `[id, lat, lng, status]` per live driver (latest-only). */
export interface FleetFrame { t: 'fleet'; ts: number; city?: string; drivers: Array<[id: string, lat: number, lng: number, status: DriverStatusName]> }
/** A handled frame's reply; the counts are present for a `locs` sent with an `id`. */
export interface AckFrame { t: 'ack'; id?: number; accepted?: number; rejected?: number; duplicates?: number; limited?: number }
/** A refused frame's reply: `code` is an error code of src/protocol/errors.ts, `msg` names the field. */
export interface ErrFrame { t: 'err'; id?: number; code: string; msg: string }

/** Frames the server sends on each socket. */
export type DriverServerFrame = HelloFrame | OfferFrame | OfferRevokedFrame | JobFrame | AckFrame | ErrFrame;
export type RiderServerFrame = JobFrame | PosFrame | AckFrame | ErrFrame;
export type OpsServerFrame = FleetFrame | JobFrame | JobsSnapshotFrame | AckFrame | ErrFrame;
