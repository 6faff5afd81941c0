// Reconnect delays: exponential backoff with full jitter, bounded.

/** How long to wait between reconnect attempts. */
export interface BackoffOptions {
  /** Ceiling of the first delay, ms (default 500). */
  initialMs?: number;
  /** Largest ceiling, ms (default 30,000): the delay never exceeds it. */
  maxMs?: number;
  /** Growth of the ceiling per failed attempt (default 2). */
  factor?: number;
}

/** Resolved backoff settings. */
export interface Backoff { initialMs: number; maxMs: number; factor: number }

/** Defaults and checks for BackoffOptions. */
export function backoffSettings(o: BackoffOptions = {}): Backoff {
  const b = { initialMs: o.initialMs ?? 500, maxMs: o.maxMs ?? 30_000, factor: o.factor ?? 2 };
  if (!(b.initialMs >= 0) || !(b.maxMs >= b.initialMs) || !(b.factor >= 1)) {
    throw new RangeError('backoff needs 0 <= initialMs <= maxMs and factor >= 1');
  }
  return b;
}

/**
 * Delay before reconnect attempt `attempt` (1 = the first retry), ms: uniform in [0, min(maxMs,
 * initialMs * factor^(attempt-1))] ("full jitter"), so a fleet of clients cut off together does not come
 * back in lockstep. `random` returns [0, 1).
 */
export function backoffDelay(b: Backoff, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(b.maxMs, b.initialMs * Math.pow(b.factor, Math.max(0, attempt - 1)));
  return Math.floor(random() * ceiling);
}
