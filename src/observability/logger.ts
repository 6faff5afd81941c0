// pino logger factory: one root logger, child loggers per component.
import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { svc: 'taxiway' } });
}
