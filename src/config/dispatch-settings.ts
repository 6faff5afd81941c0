// Dispatch settings: their type, and which flag-table entry gives each its default and range.

export interface DispatchSettings {
  /** Search radius around the pickup, metres. */
  radiusM: number;
  /** How long a driver has to answer an offer, ms. */
  offerTimeoutMs: number;
  /** Most drivers offered one job before it becomes unfulfilled. */
  maxAttempts: number;
  /** A driver whose last fix is older than this is not a candidate, ms. */
  staleMs: number;
  /** Average road speed for the baseline ETA, m/s. */
  speedMps: number;
  /**
   * How long a job that finds no eligible driver keeps waiting for one (`dispatching`) before it is
   * `unfulfilled`, ms from when its search began; 0: unfulfilled at once.
   */
  searchWindowMs: number;
  /** The search radius grows in steps from `radiusM` to this over the search window, metres (below `radiusM`: no growth). */
  maxRadiusM: number;
  /** Batched policy: how long a city's pending jobs are collected before one assignment is solved, ms. */
  batchWindowMs: number;
}

/** Each dispatch setting's environment name: its default and range (also for per-city overrides) live in the flag table. */
export const DISPATCH_ENV = {
  radiusM: 'TAXIWAY_SEARCH_RADIUS_M',
  offerTimeoutMs: 'TAXIWAY_OFFER_TIMEOUT_MS',
  maxAttempts: 'TAXIWAY_MAX_ATTEMPTS',
  staleMs: 'TAXIWAY_STALE_MS',
  speedMps: 'TAXIWAY_ETA_SPEED_MPS',
  searchWindowMs: 'TAXIWAY_SEARCH_WINDOW_MS',
  maxRadiusM: 'TAXIWAY_MAX_RADIUS_M',
  batchWindowMs: 'TAXIWAY_BATCH_WINDOW_MS',
} as const satisfies Record<keyof DispatchSettings, string>;
