// Rider `pos` frames: the assigned driver's newest position, at most once a second per job.
import type { EtaModel } from '../eta/eta-model.js';
import type { JobRecord } from '../protocol/job-record.js';
import { posFrame } from './job-frames.js';
import type { JobNotifier } from '../bus/deliveries.js';

/** One `pos` per second of the driver's own fix time. */
const MIN_INTERVAL_MS = 1000;
/** And never two within this much wall-clock time (fixes that arrive in a burst after a stall). */
const MIN_WALL_GAP_MS = 500;

interface Pending {
  rec: JobRecord; lat: number; lng: number; hdg: number; ts: number;
  /** Wall-clock time of the last send, ms. */
  lastSent: number;
  /** Fix time of the last position sent, ms. */
  lastTs: number;
  timer: NodeJS.Timeout | null;
}

/**
 * Throttles per job to one `pos` per second. The second is counted on the fixes' own timestamps, so a
 * driver reporting every second has each fix forwarded at once: a wall-clock throttle would carry any
 * one delay (a busy loop, a late timer) into every later frame of the trip, since the next fix is due
 * exactly a second later. Fixes faster than 1 Hz, or a burst after a stall, wait: the newest move is
 * kept (older ones are overwritten, never queued) and sent when the wall-clock second is up, and two
 * frames are never sent less than 500 ms apart.
 */
export class PosRelay {
  private readonly jobs = new Map<string, Pending>();
  constructor(private readonly notifier: JobNotifier, private readonly eta: EtaModel) {}

  moved(rec: JobRecord, lat: number, lng: number, hdg: number, ts: number): void {
    let p = this.jobs.get(rec.id);
    if (!p) {
      p = { rec, lat, lng, hdg, ts, lastSent: 0, lastTs: -Infinity, timer: null };
      this.jobs.set(rec.id, p);
    } else {
      p.lat = lat;
      p.lng = lng;
      p.hdg = hdg;
      p.ts = ts;
    }
    if (p.timer) return; // a send is already due: it will carry this newest position
    const now = Date.now();
    let wait: number;
    if (ts >= p.lastTs + MIN_INTERVAL_MS) {
      // Due by fix time. If the last send was late (a stall), wait only for the 500 ms wall gap: waiting for a
      // full wall second would hand that lateness on to every later frame of the trip (a stall over 500 ms
      // then never healed: measured as p90 616 ms in a suite run that started right after a heavy scenario).
      if (now >= p.lastSent + MIN_WALL_GAP_MS) {
        this.send(p);
        return;
      }
      wait = p.lastSent + MIN_WALL_GAP_MS - now;
    } else wait = p.lastSent + MIN_INTERVAL_MS - now;
    if (wait <= 0) this.send(p);
    else {
      const q = p;
      p.timer = setTimeout(() => {
        q.timer = null;
        if (this.jobs.get(q.rec.id) === q) this.send(q);
      }, wait);
    }
  }

  private send(p: Pending): void {
    p.lastSent = Date.now();
    p.lastTs = p.ts;
    const r = p.rec;
    // ETA to the pickup while approaching, to the dropoff once the trip started; none at the pickup.
    let etaS: number | undefined;
    if (r.state === 'accepted') etaS = this.eta.seconds(p.lat, p.lng, r.pickup.lat, r.pickup.lng, p.lastSent);
    else if (r.state === 'in_progress' && r.dropoff) etaS = this.eta.seconds(p.lat, p.lng, r.dropoff.lat, r.dropoff.lng, p.lastSent);
    if (etaS !== undefined) r.eta_s = etaS;
    this.notifier.jobPos(r.id, posFrame(r.id, p.lat, p.lng, p.hdg, p.ts, etaS));
  }

  forget(job: string): void {
    const p = this.jobs.get(job);
    if (p?.timer) clearTimeout(p.timer);
    this.jobs.delete(job);
  }

  stop(): void {
    for (const p of this.jobs.values()) if (p.timer) clearTimeout(p.timer);
    this.jobs.clear();
  }
}
