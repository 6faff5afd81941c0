// Dispatch settings: their type, and which flag-table entry gives each its default and range.

import type { DispatchSettings } from '../protocol/catalog-docs.js';

/** The type lives with the city document it is part of (src/protocol/catalog-docs.ts). */
export type { DispatchSettings };

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
