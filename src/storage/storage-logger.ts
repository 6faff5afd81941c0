// Minimal pino-compatible logger shape accepted by the storage adapters (a pino Logger satisfies it).
export interface StorageLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Default when no logger is given: storage stays silent rather than writing to stdout. */
export const silentLogger: StorageLogger = { warn() {}, error() {} };
