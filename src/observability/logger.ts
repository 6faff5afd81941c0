// pino logger factory: one root logger, child loggers per component.
import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/**
 * The root logger, JSON lines on stdout; with `file`, appended to that file instead (the demo keeps
 * its terminal for people and sends the node's log there). File writes are synchronous, so nothing is
 * lost when the process exits right after a line.
 */
export function createLogger(level: string, file?: string): Logger {
  const base = { level, base: { svc: 'taxiway' } };
  return file ? pino(base, pino.destination({ dest: file, sync: true, mkdir: true })) : pino(base);
}
