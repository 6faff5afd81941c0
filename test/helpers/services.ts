// External services in tests: CI (TAXIWAY_REQUIRE_SERVICES=1) fails when one is missing; elsewhere tests skip with the reason.
export const REQUIRE_SERVICES = process.env.TAXIWAY_REQUIRE_SERVICES === '1';

/**
 * Turns "service unavailable" into a tap skip reason, or throws when services are required.
 * `reason` says what is missing and how to provide it.
 */
export function skipOrFail(service: string, reason: string): string {
  const msg = `${service} unavailable: ${reason}`;
  if (REQUIRE_SERVICES) throw new Error(`${msg} (TAXIWAY_REQUIRE_SERVICES=1: this run requires it)`);
  process.stderr.write(`# SKIP ${msg}\n`);
  return msg;
}
