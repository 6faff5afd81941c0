// Driver status codes as stored in the fleet's Uint8Array, and their wire names.

export const DriverStatus = { offline: 0, available: 1, busy: 2 } as const;

export type DriverStatusCode = 0 | 1 | 2;
export type DriverStatusName = 'offline' | 'available' | 'busy';

const NAMES: readonly DriverStatusName[] = ['offline', 'available', 'busy'];

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
