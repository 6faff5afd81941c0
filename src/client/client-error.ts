// The one error type the SDK rejects promises with: a protocol error code, or a client-side reason.
import type { ErrorCode } from '../protocol/errors.js';

/**
 * Why a request or a client failed: an `err` reply's code (an ErrorCode of docs/protocol.md, e.g.
 * `conflict`), or one of the client's own: `timeout` (no reply in time), `not_connected` (sent while
 * offline), `disconnected` (the socket closed before the reply: the outcome is unknown), `stopped`
 * (close() was called), `replaced` (close 4001), `policy` (close 1008), `forbidden` or `unauthorized`
 * (the upgrade was refused and no new token can be had), `http` (an HTTP call failed without a JSON error).
 */
export type ClientErrorCode = ErrorCode | 'timeout' | 'not_connected' | 'disconnected' | 'stopped' | 'replaced' | 'policy' | 'http';

/** An error with a machine-readable `code`. */
export class ClientError extends Error {
  /**
   * @param code what went wrong (see ClientErrorCode)
   * @param message human-readable detail (for `err` replies: the server's `msg`, naming the field)
   * @param status HTTP status, for HTTP calls and refused upgrades
   * @param retryAfterS the `Retry-After` header of a 429, seconds
   * @param redirectUrl a 421's `url`: the base URL of a node serving the request's city
   */
  constructor(readonly code: ClientErrorCode, message: string, readonly status?: number, readonly retryAfterS?: number, readonly redirectUrl?: string) {
    super(message);
    this.name = 'ClientError';
  }
}
