// Wire message types (docs/protocol.md): what clients send and what the server sends back.
import type { ErrorCode } from './errors.js';
import type { EpochMs, FrameId, JobId, PrincipalId, ProductName, Latitude, Longitude, Heading, NonNegative, EtaSeconds } from './wire-scalars.js';

/** Driver statuses as the wire names them (the fleet stores them as codes: fleet/driver-status.ts). */
export const DRIVER_STATUS_NAMES = ['offline', 'available', 'busy'] as const;
export type DriverStatusName = (typeof DRIVER_STATUS_NAMES)[number];
export const JOB_STATES = ['dispatching', 'accepted', 'arrived', 'in_progress', 'completed', 'cancelled', 'unfulfilled'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** A point, decimal degrees (WGS84). */
export interface LatLng {
  lat: Latitude;
  lng: Longitude;
}

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

// ===================================================================================================
// The frames as they travel, both directions, per socket: the single source of docs/asyncapi.json.
//
// Unlike the parsed forms above (DriverMessage, ...), these are what a client encodes and decodes:
// `npm run specs` turns them into JSON Schemas, and the test helpers hold every frame of the end-to-end
// suites to them. To add a frame: declare its interface here, add it to its socket's union at the end,
// run `npm run specs`. The TSDoc annotations (@minimum, @pattern, ...) become schema keywords: keep them
// true to validate.ts.

// The scalars (EpochMs, JobId, Latitude, ...) live in wire-scalars.ts; re-exported here for the frame types' users.
export type { EpochMs, FrameId, JobId, PrincipalId, ProductName, Latitude, Longitude, Heading, NonNegative, EtaSeconds };

// ---------------------------------------------------------------------------------------------------
// Client -> server

/** One GPS fix. `hdg`, `spd`, `acc` may be left out or nil. */
export interface LocFrame {
  t: 'loc';
  id?: FrameId;
  ts: EpochMs;
  lat: Latitude;
  lng: Longitude;
  hdg?: Heading | null;
  spd?: NonNegative | null;
  acc?: NonNegative | null;
}

/** One point of `locs`: [ts, lat, lng, hdg?, spd?, acc?]. */
export type LocsPoint = [EpochMs, Latitude, Longitude, (Heading | null)?, (NonNegative | null)?, (NonNegative | null)?];

/** A batch of 0-1000 fixes, oldest first (a backlog flushed after being offline). */
export interface LocsFrame {
  t: 'locs';
  id?: FrameId;
  /**
   * Oldest first.
   * @maxItems 1000
   */
  pts: LocsPoint[];
}

/** The driver's status: only `available` drivers get offers. */
export interface StatusFrame {
  t: 'status';
  id?: FrameId;
  s: DriverStatusName;
}

/** Answer an offer (`accept`, `decline`) or move the active job on (`arrived`, `start`, `complete`). */
export interface DriverJobActionFrame {
  t: 'accept' | 'decline' | 'arrived' | 'start' | 'complete';
  id?: FrameId;
  job: JobId;
}

/** Give back an accepted job (it returns to `dispatching`). */
export interface DriverCancelFrame {
  t: 'cancel';
  id?: FrameId;
  job: JobId;
  /**
   * Informational.
   * @maxLength 500
   */
  reason?: string | null;
}

/** Rider: follow one of your jobs (`ack`, then a `job` snapshot). */
export interface RiderSubFrame {
  t: 'sub';
  id?: FrameId;
  job: JobId;
}

/** Rider: stop following a job. */
export interface RiderUnsubFrame {
  t: 'unsub';
  id?: FrameId;
  job: JobId;
}

/** Ops: start (or re-target) the stream of fleet snapshots and job changes, optionally for one city. */
export interface OpsSubFrame {
  t: 'sub';
  id?: FrameId;
  /**
   * A served city's name.
   * @maxLength 100
   */
  city?: string | null;
}

/** Ops: stop the stream (taxiway extension). */
export interface OpsUnsubFrame {
  t: 'unsub';
  id?: FrameId;
}

// ---------------------------------------------------------------------------------------------------
// Server -> client

/** Always the driver socket's first frame. */
export interface HelloFrame {
  t: 'hello';
  driver: PrincipalId;
  /**
   * Send a fix every this many ms.
   * @asType integer
   * @minimum 1
   */
  interval_ms: number;
  server_ts: EpochMs;
}

/** The client frame carrying `id` was handled. */
export interface AckFrame {
  t: 'ack';
  id?: FrameId;
}

/**
 * Count of fixes.
 * @asType integer
 * @minimum 0
 */
export type FixCount = number;

/** The reply to a `locs` with `id`: the four counts add up to the number of points. */
export interface LocsAckFrame {
  t: 'ack';
  id: FrameId;
  /** Fixes stored. */
  accepted: FixCount;
  /** Invalid points and `bad_location` verdicts: do not send them again. */
  rejected: FixCount;
  /** Dropped duplicates of recent fixes (taxiway extension). */
  duplicates: FixCount;
  /** Refused by the driver's fix budget, not stored: send them again later (taxiway extension). */
  limited: FixCount;
}

/** A refused frame (`id` when the frame had a readable one). */
export interface ErrFrame {
  t: 'err';
  id?: FrameId;
  code: ErrorCode;
  /** Names the offending field. */
  msg: string;
}

/**
 * A fix interval, ms.
 * @asType integer
 * @minimum 1
 */
export type IntervalMs = number;

/**
 * Taxiway extension: the driver app's settings, right after `hello` and again whenever they change
 * (another city, or its city changed by an operator); the newest replaces the previous.
 */
export interface ConfigFrame {
  t: 'config';
  /** The city the driver's newest fix lies in, or null (no fix yet, or outside every city). */
  city: string | null;
  /** Send a fix every so many ms while your `status` is that state. */
  fix_interval_ms: { available: IntervalMs; busy: IntervalMs; offline: IntervalMs };
  /** How long you have to answer an offer in this city, ms. */
  offer_timeout_ms: IntervalMs;
  /** The products you serve in this city. */
  products: ProductName[];
  /**
   * Catalog version of the city's settings (0 with `city` null); never decreases.
   * @asType integer
   * @minimum 0
   */
  v: number;
}

/** A job offered to this driver; answer with `accept` or `decline` before `expires_ts`. */
export interface OfferFrame {
  t: 'offer';
  job: JobId;
  pickup: LatLng;
  dropoff: LatLng | null;
  eta_s: EtaSeconds;
  expires_ts: EpochMs;
  /** Taxiway extension. */
  product: ProductName;
}

/** Taxiway extension: the offer this driver held ended without its answer. */
export interface OfferRevokedFrame {
  t: 'offer_revoked';
  job: JobId;
  reason: 'expired' | 'cancelled';
}

/**
 * Taxiway extension (2026-12-05): your place in the FIFO queue of the airport zone you wait in
 * (docs/protocol.md, "Airport queues"). Sent when you join, when your position changes, and now and
 * then when only the length changed; `left: true` (position 0) once you are out of the queue.
 */
export interface QueueFrame {
  t: 'queue';
  /** The `airport_queue` zone's id. */
  zone: string;
  city: string;
  /**
   * 1 = the next job picked up in the zone is offered to you first; 0 with `left`.
   * @asType integer
   * @minimum 0
   */
  position: number;
  /**
   * Drivers in the queue.
   * @asType integer
   * @minimum 0
   */
  length: number;
  /** Present (true) only in the frame telling you have left the queue. */
  left?: true;
}

/** The assigned driver's live position in a `job` frame. */
export interface JobFrameDriver {
  id: PrincipalId;
  lat: Latitude;
  lng: Longitude;
}

/** A job changed state (or a snapshot: after `sub`, after a driver's `hello`). `ts` is the job's `updated_ts`. */
export interface JobFrame {
  t: 'job';
  job: JobId;
  state: JobState;
  /** Absent when no driver is assigned or its position is unknown. */
  driver?: JobFrameDriver;
  eta_s?: EtaSeconds;
  ts: EpochMs;
  /** Taxiway extension, as `rider`, `pickup`, `dropoff`, `product`, `created_ts` below. */
  rider: PrincipalId;
  pickup: LatLng;
  dropoff: LatLng | null;
  product: ProductName;
  created_ts: EpochMs;
  /** The served city containing the pickup (taxiway extension). */
  city: string;
}

/** One job of an ops `jobs` snapshot: the fields of its `job` frame, without `t`. */
export interface JobSnapshotEntry {
  job: JobId;
  state: JobState;
  /** `{id, lat, lng}`, or `{id}` alone when the node does not know the driver's position; absent when none is assigned. */
  driver?: JobFrameDriver | { id: PrincipalId };
  eta_s?: EtaSeconds;
  /** The job's `updated_ts`. */
  ts: EpochMs;
  rider: PrincipalId;
  pickup: LatLng;
  dropoff: LatLng | null;
  product: ProductName;
  created_ts: EpochMs;
  city: string;
}

/** Ops (taxiway extension): the live jobs, sent after every `sub`, before the stream's frames matter. */
export interface JobsSnapshotFrame {
  t: 'jobs';
  /** When the node read the snapshot. */
  ts: EpochMs;
  /** Echoed when the `sub` named a city. */
  city?: string;
  /** Newest created first. */
  jobs: JobSnapshotEntry[];
  /** True when more live jobs exist than the frame holds (page them with `GET /v1/jobs?state=live`). */
  more: boolean;
}

/** Ops (taxiway extension, 2026-12-04): a driver entered or left a zone (docs/protocol.md, "Zone events"). */
export interface ZoneFrame {
  t: 'zone';
  driver: string;
  /** The zone id. */
  zone: string;
  city: string;
  kind: 'airport_queue' | 'no_pickup' | 'info';
  ev: 'enter' | 'exit';
  /** The fix that decided it (the server's time for an exit by deletion or expiry). */
  ts: EpochMs;
}

/** Newest live position of a followed job's driver; latest-only, at most one per second per job. */
export interface PosFrame {
  t: 'pos';
  job: JobId;
  lat: Latitude;
  lng: Longitude;
  hdg?: Heading;
  /** The fix time. */
  ts: EpochMs;
  eta_s?: EtaSeconds;
}

/** One live driver in a `fleet` frame: [id, lat, lng, status]. */
export type FleetDriver = [id: PrincipalId, lat: Latitude, lng: Longitude, status: DriverStatusName];

/** Ops: every driver in the live fleet (of `city` when the subscription names one); latest-only, every 500 ms. */
export interface FleetFrame {
  t: 'fleet';
  ts: EpochMs;
  /** Echoed when the subscription names a city (taxiway extension). */
  city?: string;
  drivers: FleetDriver[];
}

// ---------------------------------------------------------------------------------------------------
// Per socket and direction: the unions docs/asyncapi.json is built from (each member becomes a message).

/** What a driver app sends on /v1/driver/ws. */
export type DriverClientFrame = LocFrame | LocsFrame | StatusFrame | DriverJobActionFrame | DriverCancelFrame;
/** What the server sends on /v1/driver/ws. */
export type DriverServerFrame = HelloFrame | ConfigFrame | AckFrame | LocsAckFrame | ErrFrame | OfferFrame | OfferRevokedFrame | JobFrame | QueueFrame;
/** What a rider app sends on /v1/rider/ws. */
export type RiderClientFrame = RiderSubFrame | RiderUnsubFrame;
/** What the server sends on /v1/rider/ws. */
export type RiderServerFrame = AckFrame | ErrFrame | JobFrame | PosFrame;
/** What an ops client sends on /v1/ops/ws. */
export type OpsClientFrame = OpsSubFrame | OpsUnsubFrame;
/** What the server sends on /v1/ops/ws. */
export type OpsServerFrame = AckFrame | ErrFrame | JobFrame | FleetFrame | JobsSnapshotFrame | ZoneFrame;

// Names the client SDK (src/client) uses for the unions above.
/** Driver → server frames, wire form. */
export type DriverFrame = DriverClientFrame;
/** Rider → server frames, wire form. */
export type RiderFrame = RiderClientFrame;
/** Ops → server frames, wire form. */
export type OpsFrame = OpsClientFrame;
/** One live job in an ops snapshot. */
export type JobsSnapshotEntry = JobSnapshotEntry;
