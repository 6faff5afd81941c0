// The scalar types of the wire (times, ids, coordinates), each with the schema keywords docs/asyncapi.json and docs/openapi.json carry.

/**
 * An integer time in ms since 1970-01-01T00:00Z. The server sends every time field as a msgpack int64.
 * @asType integer
 * @minimum 0
 * @maximum 8640000000000000
 */
export type EpochMs = number;

/**
 * Correlation id of a client frame: the reply (`ack` or `err`) carries it back.
 * @asType integer
 * @minimum -9007199254740991
 * @maximum 9007199254740991
 */
export type FrameId = number;

/**
 * A job id: 1-128 characters of A-Z a-z 0-9 _ . : - (since 2026-12-05 `<city>.<16 characters>`; before, `j_<uuid>`)
 * @pattern ^[A-Za-z0-9_.:-]{1,128}$
 */
export type JobId = string;

/**
 * A driver, rider or ops id (the token's `sub`): 1-64 characters of A-Z a-z 0-9 _ . : -
 * @pattern ^[A-Za-z0-9_.:-]{1,64}$
 */
export type PrincipalId = string;

/**
 * A product name such as `taxi` or `xl`.
 * @pattern ^[a-z0-9_-]{1,32}$
 */
export type ProductName = string;

/**
 * Latitude, decimal degrees (WGS84).
 * @minimum -90
 * @maximum 90
 */
export type Latitude = number;

/**
 * Longitude, decimal degrees (WGS84).
 * @minimum -180
 * @maximum 180
 */
export type Longitude = number;

/**
 * Heading, degrees clockwise from north, in [0, 360).
 * @minimum 0
 * @exclusiveMaximum 360
 */
export type Heading = number;

/**
 * A non-negative number (speed in m/s, accuracy in metres).
 * @minimum 0
 */
export type NonNegative = number;

/**
 * Seconds of an estimated time of arrival.
 * @minimum 0
 */
export type EtaSeconds = number;
