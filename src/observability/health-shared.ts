// Layout of the SharedArrayBuffer the main thread and the health worker share, and the worker's start data.

/** Float64 slot: Date.now() of the main thread's last heartbeat, ms. A plain aligned 8-byte store: torn reads do not occur on x64/arm64. */
export const HB_BEAT_MS = 0;
/** Float64 slot: 1 when the last readiness check passed, 0 otherwise. */
export const HB_READY = 1;
export const HB_SLOTS = 2;

export interface HealthWorkerData {
  heartbeat: SharedArrayBuffer;
  host: string;
  port: number;
  /** /healthz answers 503 once the heartbeat is older than this, ms. */
  stallMs: number;
}
