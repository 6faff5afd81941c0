// Every error code taxiway speaks, with its HTTP status; WebSocket close codes too. One place, on purpose.

/**
 * Error codes of the wire protocol with their HTTP status, exactly the table of docs/protocol.md ("Error
 * codes"); `test/protocol-codes.test.ts` checks both against each other.
 */
export const ErrorCodes = {
  bad_frame: 400,
  bad_request: 400,
  bad_location: 400,
  pickup_not_allowed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  misdirected: 421,
  too_large: 413,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** HTTP status line text, so routes never build it ad hoc. */
export const HttpStatusText: Record<number, string> = {
  200: '200 OK',
  201: '201 Created',
  204: '204 No Content',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  409: '409 Conflict',
  413: '413 Payload Too Large',
  421: '421 Misdirected Request',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

/**
 * WebSocket close codes the server sends, exactly the table of docs/protocol.md ("WebSocket close codes");
 * `test/protocol-codes.test.ts` checks both against each other. Never write these numbers anywhere else.
 */
export const CloseCodes = {
  /** Server shutting down: reconnect elsewhere. */
  goingAway: 1001,
  /** 100 bad frames in a row. */
  policyViolation: 1008,
  /** A frame over the 64 KiB limit. */
  tooBig: 1009,
  /** Unexpected server fault while opening the socket. */
  internalError: 1011,
  /** A driver socket replaced by a newer connection of the same driver, on this node or another one. */
  replaced: 4001,
  /** Too slow: the socket's queue of reliable frames reached its limit (10,000 frames). */
  tooSlow: 4008,
  /** The socket's city is served by other nodes: the reason is `<city> <url>` (url of one of them; absent when none is known). */
  servedElsewhere: 4009,
} as const;

export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];

/**
 * Standard RFC 6455 close codes a client (the simulator, tests) sends or receives but the server never
 * sends itself, so they are not part of the protocol's close-code table.
 */
export const ClientCloseCodes = {
  /** Normal closure: the client is done. */
  normal: 1000,
  /** No status code was present in the close frame (reported locally, never sent). */
  noStatus: 1005,
} as const;

/**
 * An error that carries a protocol code; thrown at boundaries, turned into `err` frames or JSON.
 * It is an answer to a client, not a fault: no stack trace is captured. Capturing one dominated the
 * cost of refusing a flood of frames (a profile put 84% of a node's time in this constructor).
 */
export class ProtocolError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.code = code;
  }
  get httpStatus(): number {
    return ErrorCodes[this.code];
  }
}

/**
 * The request is for a city this node does not serve: 421 `misdirected`, the JSON error naming the city
 * (`city`) and the base URL of a node that serves it (`url`; absent when none is known now).
 */
export class MisdirectedError extends ProtocolError {
  constructor(readonly city: string, readonly url: string | undefined) {
    super('misdirected', url ? `city ${city} is served by another node: send the request to ${url}` : `city ${city} is not served by this node, and no node serving it is known now: retry later`);
  }
}

/** The reason of a `servedElsewhere` close: `<city> <url>` (city alone when no URL is known); at most 123 bytes (64 + 1 + 56). */
export function servedElsewhereReason(city: string, url: string | undefined): string {
  return url ? `${city} ${url}` : city;
}

/** The city and URL of a `servedElsewhere` close reason (inverse of servedElsewhereReason). */
export function parseServedElsewhere(reason: string): { city: string; url: string | undefined } {
  const sp = reason.indexOf(' ');
  return sp < 0 ? { city: reason, url: undefined } : { city: reason.slice(0, sp), url: reason.slice(sp + 1) };
}

/** A job's pickup lies in a `no_pickup` zone: 400 `pickup_not_allowed`, the JSON error naming the zone (`zone`). */
export class PickupNotAllowedError extends ProtocolError {
  constructor(readonly zone: string, zoneName: string | undefined) {
    super('pickup_not_allowed', `pickup is inside no_pickup zone ${zone}${zoneName ? ` (${zoneName})` : ''}: choose a pickup outside it`);
  }
}
