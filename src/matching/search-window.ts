// Search window arithmetic: how far a waiting job's search reaches, and when its next step (or its end) is due. Pure.
import type { DispatchSettings } from '../config/dispatch-settings.js';
import type { JobRecord } from '../protocol/job-record.js';

/** The radius grows in this many equal steps over the search window (the last one starts at 3/4 of it). */
export const RADIUS_STEPS = 4;

/** When a job's current search began, ms since the epoch: when it (last) entered `dispatching`. */
export function searchStart(rec: JobRecord): number {
  return rec.times.dispatching ?? rec.created_ts;
}

/**
 * Search radius after `elapsedMs` of the window, metres: `radiusM` during the first step, then evenly up
 * to `maxRadiusM` in the last one (`radiusM` throughout when `maxRadiusM` is not larger).
 */
export function searchRadiusM(s: DispatchSettings, elapsedMs: number): number {
  if (!(s.maxRadiusM > s.radiusM) || s.searchWindowMs <= 0) return s.radiusM;
  const step = Math.min(RADIUS_STEPS - 1, Math.max(0, Math.floor((elapsedMs * RADIUS_STEPS) / s.searchWindowMs)));
  return s.radiusM + ((s.maxRadiusM - s.radiusM) * step) / (RADIUS_STEPS - 1);
}

/** The largest radius the job's search may reach, metres. */
export function widestRadiusM(s: DispatchSettings): number {
  return s.searchWindowMs > 0 ? Math.max(s.radiusM, s.maxRadiusM) : s.radiusM;
}

/** Whether the window is over after `elapsedMs` (always, for a window of 0). */
export function searchOver(s: DispatchSettings, elapsedMs: number): boolean {
  return elapsedMs >= s.searchWindowMs;
}

/**
 * Ms from `elapsedMs` until the search must look again by itself: the next radius step, or the window's
 * end (then the job ends `unfulfilled` unless it has an offer). Drivers becoming available wake it earlier.
 */
export function nextSearchStepMs(s: DispatchSettings, elapsedMs: number): number {
  if (s.maxRadiusM > s.radiusM) {
    for (let i = 1; i < RADIUS_STEPS; i++) {
      const at = Math.ceil((s.searchWindowMs * i) / RADIUS_STEPS);
      if (at > elapsedMs) return at - elapsedMs;
    }
  }
  return Math.max(0, s.searchWindowMs - elapsedMs);
}
