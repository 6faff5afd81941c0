// Settings of the WebSocket layer's limits against hostile or runaway clients.

/** Limits of the WebSocket layer against hostile or runaway clients (docs/protocol.md, "Limits"). */
export interface WsLimits {
  /** Async actions (job commands, rider `sub`) one socket may have waiting; past it `rate_limited`. */
  maxPendingActions: number;
  /** Open WebSocket connections per client IP; 0 means no limit. */
  maxSocketsPerIp: number;
  /** WebSocket upgrade requests per client IP per second (fixed one-second windows); 0 means no limit. */
  upgradesPerSecPerIp: number;
}
