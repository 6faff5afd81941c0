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
