// ETA port: how long a car takes from A to B. Implementations: baseline (here), learned (later).

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
}
