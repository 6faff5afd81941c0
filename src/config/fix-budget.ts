// The per-driver fix budget: its type, and its reading from the flag table with a check against the asked fix interval.
import { ConfigError } from './config-error.js';
import type { EnvSource } from './config-error.js';
import { numberSetting } from './settings.js';

/**
 * A driver's fix budget, a token bucket: every range-valid fix a driver sends takes one token before it
 * is judged; tokens come back at `ratePerS` up to `burst`, and a driver the node holds no state for
 * starts with a full bucket. Past it, fixes are refused with `rate_limited` (docs/protocol.md "Limits").
 */
export interface FixBudget {
  /** Sustained fixes per second per driver (> 0). */
  ratePerS: number;
  /** Most fixes a driver may send at once after a quiet time (≥ 1): the offline backlog it can flush. */
  burst: number;
}

/**
 * The budget from TAXIWAY_FIX_BUDGET_RATE / TAXIWAY_FIX_BUDGET_BURST; undefined when the rate is 0 (no
 * budget). A rate below the one `hello.interval_ms` asks of drivers would refuse well-behaved apps, so it
 * is a ConfigError.
 */
export function fixBudgetFromEnv(src: EnvSource, fixIntervalMs: number): FixBudget | undefined {
  const ratePerS = numberSetting(src, 'TAXIWAY_FIX_BUDGET_RATE');
  if (ratePerS === 0) return undefined;
  const asked = 1000 / fixIntervalMs;
  if (ratePerS < asked) {
    throw new ConfigError(
      `TAXIWAY_FIX_BUDGET_RATE=${ratePerS}: below the ${asked} fixes/s that TAXIWAY_FIX_INTERVAL_MS=${fixIntervalMs} asks of every driver (raise it, or 0 for no budget)`,
    );
  }
  return { ratePerS, burst: numberSetting(src, 'TAXIWAY_FIX_BUDGET_BURST') };
}
