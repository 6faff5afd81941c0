// Driver status codes as stored in the fleet's Uint8Array; the names are the protocol's (protocol/messages.ts).
import { DRIVER_STATUS_NAMES } from '../protocol/messages.js';
import type { DriverStatusName } from '../protocol/messages.js';

export type { DriverStatusName };
export type DriverStatusCode = 0 | 1 | 2;

/** The code of each status name (one byte per driver in the fleet's status column). */
export const DriverStatus = { offline: 0, available: 1, busy: 2 } as const satisfies Record<DriverStatusName, DriverStatusCode>;

const NAMES: readonly DriverStatusName[] = (() => {
  const names: DriverStatusName[] = [];
  for (const n of DRIVER_STATUS_NAMES) names[DriverStatus[n]] = n;
  return names;
})();

/** Name of a status code; throws on a code outside 0..2 because that means corrupted state. */
export function statusName(code: DriverStatusCode): DriverStatusName {
  const n = NAMES[code];
  if (n === undefined) throw new RangeError(`unknown driver status code ${String(code)}`);
  return n;
}

/** True when `v` is a valid status code (for validating input that was not typed as one). */
export function isStatusCode(v: unknown): v is DriverStatusCode {
  return v === 0 || v === 1 || v === 2;
}
