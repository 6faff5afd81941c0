// taxiway/client: the SDK for driver, rider and ops apps (browser or Node), over the v1 wire protocol.
export { DriverClient } from './driver-client.js';
export type { DriverClientOptions, DriverEvents, DriverFix, FixStats, FlushResult } from './driver-client.js';
export { RiderClient } from './rider-client.js';
export type { JobRequest, RiderEvents } from './rider-client.js';
export { OpsClient } from './ops-client.js';
export type { OpsEvents } from './ops-client.js';
export type { ClientOptions, ConnectionEvents } from './connection.js';
export { ClientError } from './client-error.js';
export type { ClientErrorCode } from './client-error.js';
export { backoffDelay } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { tokenExpiryMs } from './token-source.js';
export type { TokenProvider, TokenReason } from './token-source.js';
export type { BrowserWebSocketCtor, WebSocketChoice } from './transport.js';
export type { Listener } from './listeners.js';
// The wire types, from their one home (src/protocol).
export type {
  AckFrame, DriverFrame, JobsSnapshotEntry, JobsSnapshotFrame, DriverServerFrame, DriverStatusName, ErrFrame, FleetFrame, HelloFrame, JobFrame, JobState,
  LatLng, LocsPoint, OfferFrame, OfferRevokedFrame, OpsFrame, OpsServerFrame, PosFrame, QueueFrame, RiderFrame, RiderServerFrame,
} from '../protocol/messages.js';
export type { JobRecord, JobTimes } from '../protocol/job-record.js';
export { CloseCodes, ErrorCodes } from '../protocol/errors.js';
export type { ErrorCode } from '../protocol/errors.js';
export { isFinalState as isFinalJobState } from '../protocol/job-record.js';
