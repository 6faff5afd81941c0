// Job ids: `<city>.<random>` since 2026-12-05, so any node can tell a job's city (its Redis slot) from its id alone.
import crypto from 'node:crypto';

/**
 * Job id pattern: 1 to 128 of A-Z a-z 0-9 _ . : - (64 before 2026-12-05; ids now carry their city,
 * `<city>.<16 characters>`, and a city name may be 64 long).
 */
export const JOB_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Random characters of a job id after its city (base64url, 96 bits). */
const RANDOM_CHARS = 16;

/**
 * A new job id for `city` (a checked city name: A-Z a-z 0-9 _ -, never a `.`): `<city>.<16 base64url
 * characters>`, e.g. `porto.Qm9fJ3kx_aZ2c8Lw`. Ids made before 2026-12-05 are `j_<uuid>`, without a city.
 */
export function newJobId(city: string): string {
  return `${city}.${crypto.randomBytes((RANDOM_CHARS * 3) / 4).toString('base64url')}`;
}

/** The city a job id names, or null for an id without one (`j_<uuid>` made before 2026-12-05, or any other). */
export function cityOfJobId(id: string): string | null {
  const dot = id.indexOf('.');
  if (dot <= 0 || dot !== id.lastIndexOf('.')) return null;
  return id.slice(0, dot);
}
