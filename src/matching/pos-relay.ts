// Rider `pos` frames: the assigned driver's newest position, at most once a second of fix time per job.
import type { EtaModel } from '../eta/eta-model.js';
import type { JobRecord } from '../protocol/job-record.js';
import type { Clock, ClockTimer } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import { posFrame } from './job-frames.js';
import type { JobNotifier } from '../bus/deliveries.js';

/** Two `pos` of a job are at least this far apart in the driver's own fix time, ms. */
export const POS_MIN_FIX_GAP_MS = 1000;
/** And never two within this much wall-clock time (fixes that arrive in a burst after a stall), ms. */
export const POS_MIN_WALL_GAP_MS = 500;

interface Pending {
  /** The job as last heard (its state decides the ETA target). */
  rec: JobRecord;
  lat: number; lng: number; hdg: number;
  /** Fix time of the held position, ms. */
  ts: number;
  /** Wall-clock time of the last send, ms. */
  lastSent: number;
  /** Fix time of the last position sent, ms. */
  lastTs: number;
  timer: ClockTimer | null;
  /** The timer's callback, made once per job so a wait allocates nothing per fix. */
  fire: () => void;
}

/**
 * Throttles per job to one `pos` per second, counted on the fixes' own timestamps: two frames of a job
 * are always at least 1 s apart in fix time (`ts`). A fix less than 1 s (fix time) after the last one
 * sent is never sent (a later one can only be closer to the truth); the next fix that is due carries the
 * newest position. A due fix goes out at once, so a driver reporting every second has each fix forwarded
 * at once: waiting on the wall clock instead would carry any one delay (a busy loop, a late timer) into
 * every later frame of the trip. Only a burst after a stall waits, for the 500 ms wall gap since the last
 * send, and then sends the newest due fix (older ones are overwritten, never queued).
 *
 * The ETA follows the job's current state: to the pickup while `accepted`, none while `arrived`, to the
 * dropoff while `in_progress` (none without a dropoff).
 */
export class PosRelay {
  private readonly jobs = new Map<string, Pending>();
  constructor(private readonly notifier: JobNotifier, private readonly eta: EtaModel, private readonly clock: Clock = systemClock) {}

  /** `rec`'s driver moved to a newer fix (degrees, ms of fix time). */
  moved(rec: JobRecord, lat: number, lng: number, hdg: number, ts: number): void {
    let p = this.jobs.get(rec.id);
    if (!p) {
      p = this.track(rec);
    } else {
      p.rec = rec;
      // Not due by fix time: sending it would break the 1 s spacing. A send already due keeps its own fix
      // (fixes only move forward, so this cannot happen while one waits; the guard is for safety).
      if (ts < p.lastTs + POS_MIN_FIX_GAP_MS || ts < p.ts) return;
    }
    p.lat = lat;
    p.lng = lng;
    p.hdg = hdg;
    p.ts = ts;
    if (p.timer !== null) return; // a send is already due: it will carry this newest position
    const wait = p.lastSent + POS_MIN_WALL_GAP_MS - this.clock.now();
    if (wait <= 0) this.send(p);
    else p.timer = this.clock.setTimeout(p.fire, wait);
  }

  /** The job changed (a new state, a new ETA target): a send still waiting uses the new record. */
  jobChanged(rec: JobRecord): void {
    const p = this.jobs.get(rec.id);
    if (p) p.rec = rec;
  }

  private track(rec: JobRecord): Pending {
    const p: Pending = {
      rec, lat: 0, lng: 0, hdg: NaN, ts: -Infinity, lastSent: -Infinity, lastTs: -Infinity, timer: null,
      fire: () => {
        p.timer = null;
        if (this.jobs.get(p.rec.id) === p) this.send(p);
      },
    };
    this.jobs.set(rec.id, p);
    return p;
  }

  private send(p: Pending): void {
    p.lastSent = this.clock.now();
    p.lastTs = p.ts;
    const r = p.rec;
    let etaS: number | undefined;
    if (r.state === 'accepted') etaS = this.eta.seconds(p.lat, p.lng, r.pickup.lat, r.pickup.lng, p.lastSent);
    else if (r.state === 'in_progress' && r.dropoff) etaS = this.eta.seconds(p.lat, p.lng, r.dropoff.lat, r.dropoff.lng, p.lastSent);
    this.notifier.jobPos(r.id, posFrame(r.id, p.lat, p.lng, p.hdg, p.ts, etaS));
  }

  forget(job: string): void {
    const p = this.jobs.get(job);
    if (p?.timer != null) this.clock.clearTimeout(p.timer);
    this.jobs.delete(job);
  }

  stop(): void {
    for (const p of this.jobs.values()) if (p.timer !== null) this.clock.clearTimeout(p.timer);
    this.jobs.clear();
  }
}
