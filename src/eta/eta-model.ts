// ETA port: how long a car takes from A to B. Implementations: baseline, learned (per city), city router.

export interface EtaEstimate {
  /** Seconds. */
  eta_s: number;
  /** Estimated road distance, metres. */
  distance_m: number;
}

export interface EtaModel {
  readonly name: string;
  /** Estimate a trip from (lat,lng) to (lat,lng), degrees, starting at `atMs` (ms since the epoch). */
  estimate(fromLat: number, fromLng: number, toLat: number, toLng: number, atMs: number): EtaEstimate;
  /** Seconds only, no allocation: for ranking many candidates. */
  seconds(fromLat: number, fromLng: number, toLat: number, toLng: number, atMs: number): number;
  /**
   * Batch form for ranking candidates towards one destination, no allocation: for i in [0, n),
   * `out[i]` = seconds from (fromLat[j], fromLng[j]) with j = `slots[i]` (or i when `slots` is null),
   * so the fleet's typed arrays and a nearest() slot list can be passed as they are.
   */
  secondsMany(
    fromLat: ArrayLike<number>, fromLng: ArrayLike<number>, slots: ArrayLike<number> | null, n: number,
    toLat: number, toLng: number, atMs: number, out: Float64Array | number[],
  ): void;
}
