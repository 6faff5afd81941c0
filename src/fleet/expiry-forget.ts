// Fleet expiry reaction: drivers removed from the live fleet are forgotten by every holder of per-driver state (bounded memory).
import type { ExpireListener } from './fleet-registry.js';

/** Anything keeping state per driver id that must go when the driver leaves the fleet (ingest tracks, ETA fix pairing). */
export interface DriverStateHolder {
  forget(ids: readonly string[]): void;
}

/** Expire listener that makes each holder, in order, forget the expired drivers. */
export function forgetExpired(holders: readonly DriverStateHolder[]): ExpireListener {
  const hs = holders.slice();
  return (ids) => {
    for (const h of hs) h.forget(ids);
  };
}
