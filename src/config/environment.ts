// The one place that reads process.env: everything else is handed the snapshot taken here.
import type { EnvSource } from './config-error.js';

/** A copy of the process environment; later changes to process.env are not seen by it. */
export function readEnvironment(): EnvSource {
  return { ...process.env };
}
