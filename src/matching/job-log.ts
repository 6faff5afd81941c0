// Job log: one info line per committed job state change (job, state, city, driver, by), as a recorded listener.
import type { Logger } from '../observability/logger.js';
import type { RecordedListener } from './job-ledger.js';

/**
 * A listener that logs each committed state change at `info` on the node that made it. Cheap: pino
 * skips disabled levels before building anything, and a job changes state a handful of times.
 */
export function jobLogListener(logger: Logger): RecordedListener {
  return (rec, by) => {
    if (!logger.isLevelEnabled('info')) return;
    logger.info({ job: rec.id, state: rec.state, city: rec.city, driver: rec.driver, by }, 'job changed');
  };
}
