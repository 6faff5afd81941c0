// Validation of decoded client frames: every field checked, errors name the field (bad_request).
import { ProtocolError } from './errors.js';
import { DRIVER_STATUS_NAMES, Limits } from './messages.js';
import { JOB_ID_PATTERN } from './job-id.js';
import type { DriverMessage, DriverStatusName, Fix, OpsMessage, RiderMessage } from './messages.js';

function bad(msg: string): never {
  throw new ProtocolError('bad_request', msg);
}

/** The frame's `id`, if it has a usable one (an integer); used to address the reply even on errors. */
export function frameId(m: Record<string, unknown>): number | undefined {
  const id = m.id;
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : undefined;
}

function readId(m: Record<string, unknown>): number | undefined {
  if (m.id === undefined) return undefined;
  if (typeof m.id !== 'number' || !Number.isSafeInteger(m.id)) bad('id must be an integer');
  return m.id;
}

function readJob(m: Record<string, unknown>): string {
  const j = m.job;
  if (typeof j !== 'string' || !JOB_ID_PATTERN.test(j)) bad('job must be a job id string');
  return j;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * Check one fix's fields; returns an error message naming the field, or null when valid.
 * Range rules only; time-dependent rules (future ts, jumps) belong to ingest.
 */
export function checkFix(ts: unknown, lat: unknown, lng: unknown, hdg: unknown, spd: unknown, acc: unknown): string | null {
  const t = num(ts);
  if (t === undefined || t < 0 || t > 8.64e15 || !Number.isInteger(t)) return 'ts must be an integer time in ms since the epoch';
  const la = num(lat);
  if (la === undefined || la < -90 || la > 90) return 'lat must be a number in [-90, 90]';
  const ln = num(lng);
  if (ln === undefined || ln < -180 || ln > 180) return 'lng must be a number in [-180, 180]';
  if (hdg !== undefined && hdg !== null) {
    const h = num(hdg);
    if (h === undefined || h < 0 || h >= 360) return 'hdg must be a number in [0, 360)';
  }
  if (spd !== undefined && spd !== null) {
    const s = num(spd);
    if (s === undefined || s < 0) return 'spd must be a number of m/s >= 0';
  }
  if (acc !== undefined && acc !== null) {
    const a = num(acc);
    if (a === undefined || a < 0) return 'acc must be a number of metres >= 0';
  }
  return null;
}

/** checkFix for already-numeric fields, optional ones NaN when absent (the fast loc path). */
export function fixNumbersValid(ts: number, lat: number, lng: number, hdg: number, spd: number, acc: number): boolean {
  return (
    ts >= 0 && ts <= 8.64e15 && Number.isInteger(ts) &&
    lat >= -90 && lat <= 90 && lng >= -180 && lng <= 180 &&
    (hdg !== hdg || (hdg >= 0 && hdg < 360)) &&
    (spd !== spd || (spd >= 0 && spd !== Infinity)) &&
    (acc !== acc || (acc >= 0 && acc !== Infinity))
  );
}

function toFix(ts: unknown, lat: unknown, lng: unknown, hdg: unknown, spd: unknown, acc: unknown): Fix {
  return {
    ts: ts as number,
    lat: lat as number,
    lng: lng as number,
    hdg: typeof hdg === 'number' ? hdg : NaN,
    spd: typeof spd === 'number' ? spd : NaN,
    acc: typeof acc === 'number' ? acc : NaN,
  };
}

const STATUSES: ReadonlySet<string> = new Set<string>(DRIVER_STATUS_NAMES);

/** Validate a decoded driver frame. Throws ProtocolError('bad_request') naming the field. */
export function parseDriverMessage(m: Record<string, unknown>): DriverMessage {
  const id = readId(m);
  switch (m.t) {
    case 'loc': {
      const err = checkFix(m.ts, m.lat, m.lng, m.hdg, m.spd, m.acc);
      if (err) bad(err);
      return { t: 'loc', id, fix: toFix(m.ts, m.lat, m.lng, m.hdg, m.spd, m.acc) };
    }
    case 'locs': {
      const pts = m.pts;
      if (!Array.isArray(pts)) bad('pts must be an array of [ts,lat,lng,hdg?,spd?,acc?]');
      if (pts.length > Limits.maxLocsPoints) bad(`pts must hold at most ${Limits.maxLocsPoints} points`);
      const out: Array<Fix | string> = new Array(pts.length);
      for (let i = 0; i < pts.length; i++) {
        const p = pts[i];
        if (!Array.isArray(p) || p.length < 3 || p.length > 6) {
          out[i] = `pts[${i}] must be [ts,lat,lng,hdg?,spd?,acc?]`;
          continue;
        }
        const err = checkFix(p[0], p[1], p[2], p[3], p[4], p[5]);
        out[i] = err ? `pts[${i}]: ${err}` : toFix(p[0], p[1], p[2], p[3], p[4], p[5]);
      }
      return { t: 'locs', id, pts: out };
    }
    case 'status': {
      if (typeof m.s !== 'string' || !STATUSES.has(m.s)) bad('s must be available, busy or offline');
      return { t: 'status', id, s: m.s as DriverStatusName };
    }
    case 'accept':
    case 'decline':
    case 'arrived':
    case 'start':
    case 'complete':
      return { t: m.t, id, job: readJob(m) };
    case 'cancel': {
      const job = readJob(m);
      if (m.reason !== undefined && m.reason !== null && (typeof m.reason !== 'string' || m.reason.length > 500)) {
        bad('reason must be a string of at most 500 characters');
      }
      return { t: 'cancel', id, job, reason: typeof m.reason === 'string' ? m.reason : undefined };
    }
    default:
      return unknownType(m.t);
  }
}

/** Validate a decoded rider frame. */
export function parseRiderMessage(m: Record<string, unknown>): RiderMessage {
  const id = readId(m);
  if (m.t === 'sub' || m.t === 'unsub') return { t: m.t, id, job: readJob(m) };
  return unknownType(m.t);
}

/** Validate a decoded ops frame. */
export function parseOpsMessage(m: Record<string, unknown>): OpsMessage {
  const id = readId(m);
  if (m.t === 'sub') {
    if (m.city !== undefined && m.city !== null && (typeof m.city !== 'string' || m.city.length > 100)) bad('city must be a city name');
    return { t: 'sub', id, city: typeof m.city === 'string' ? m.city : undefined };
  }
  if (m.t === 'unsub') return { t: 'unsub', id };
  return unknownType(m.t);
}

function unknownType(t: unknown): never {
  if (typeof t !== 'string') bad('t must be a message type string');
  bad(`t: unknown message type ${JSON.stringify(t.slice(0, 40))}`);
}

/** Validate a {lat,lng} object from HTTP JSON; `field` names it in the error. */
export function parseLatLng(v: unknown, field: string): { lat: number; lng: number } {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad(`${field} must be an object {lat, lng}`);
  const o = v as Record<string, unknown>;
  const lat = num(o.lat);
  if (lat === undefined || lat < -90 || lat > 90) bad(`${field}.lat must be a number in [-90, 90]`);
  const lng = num(o.lng);
  if (lng === undefined || lng < -180 || lng > 180) bad(`${field}.lng must be a number in [-180, 180]`);
  return { lat, lng };
}
