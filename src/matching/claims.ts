// Driver claims port: a driver holds at most one offer and one active job. In-memory adapter here.

/**
 * Atomic per-driver claims. Guarantees: `claimOffer` succeeds only when the driver holds no offer and
 * no active job; `promote` turns the driver's offer for `job` into its active job, atomically, and fails
 * if the driver no longer holds that offer. Releases are idempotent and only release a matching claim.
 */
export interface DriverClaims {
  claimOffer(driver: string, job: string): boolean;
  releaseOffer(driver: string, job: string): void;
  promote(driver: string, job: string): boolean;
  releaseActive(driver: string, job: string): void;
  offerOf(driver: string): string | undefined;
  activeOf(driver: string): string | undefined;
}

export class MemoryClaims implements DriverClaims {
  private readonly offers = new Map<string, string>();
  private readonly active = new Map<string, string>();

  claimOffer(driver: string, job: string): boolean {
    if (this.offers.has(driver) || this.active.has(driver)) return false;
    this.offers.set(driver, job);
    return true;
  }
  releaseOffer(driver: string, job: string): void {
    if (this.offers.get(driver) === job) this.offers.delete(driver);
  }
  promote(driver: string, job: string): boolean {
    if (this.offers.get(driver) !== job || this.active.has(driver)) return false;
    this.offers.delete(driver);
    this.active.set(driver, job);
    return true;
  }
  releaseActive(driver: string, job: string): void {
    if (this.active.get(driver) === job) this.active.delete(driver);
  }
  offerOf(driver: string): string | undefined {
    return this.offers.get(driver);
  }
  activeOf(driver: string): string | undefined {
    return this.active.get(driver);
  }
}
