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
}

/** Each dispatch setting's environment name: its default and range (also for per-city overrides) live in the flag table. */
export const DISPATCH_ENV = {
  radiusM: 'TAXIWAY_SEARCH_RADIUS_M',
  offerTimeoutMs: 'TAXIWAY_OFFER_TIMEOUT_MS',
  maxAttempts: 'TAXIWAY_MAX_ATTEMPTS',
  staleMs: 'TAXIWAY_STALE_MS',
  speedMps: 'TAXIWAY_ETA_SPEED_MPS',
} as const satisfies Record<keyof DispatchSettings, string>;
