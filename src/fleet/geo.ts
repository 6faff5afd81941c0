// Spherical-earth distance and degree/metre conversions used by the fleet index; pure, allocation-free.

/** Mean earth radius, metres (IUGG). Every distance in the fleet uses this one sphere. */
export const EARTH_RADIUS_M = 6371008.8;

const DEG = Math.PI / 180;
/** Metres per degree of latitude (and of longitude at the equator) on our sphere. */
export const METRES_PER_DEGREE = EARTH_RADIUS_M * DEG;

/** Great-circle distance between two points given in degrees, metres. */
export function haversineMetres(lat1: number, lng1: number, lat2: number, lng2: number): number {
  const sinDLat = Math.sin((lat2 - lat1) * DEG * 0.5);
  const sinDLng = Math.sin((lng2 - lng1) * DEG * 0.5);
  const a = sinDLat * sinDLat + Math.cos(lat1 * DEG) * Math.cos(lat2 * DEG) * sinDLng * sinDLng;
  // min() because rounding can push a a hair above 1 for antipodal points, and asin(>1) is NaN.
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/**
 * Equirectangular approximation of the distance between two points in degrees, metres.
 * Cheaper than haversine and good to ~0.1% under a few tens of km away from the poles;
 * handles the antimeridian by wrapping the longitude difference. Not used where exactness matters.
 */
export function equirectMetres(lat1: number, lng1: number, lat2: number, lng2: number): number {
  let dLng = lng2 - lng1;
  if (dLng > 180) dLng -= 360;
  else if (dLng < -180) dLng += 360;
  const x = dLng * DEG * Math.cos((lat1 + lat2) * 0.5 * DEG);
  const y = (lat2 - lat1) * DEG;
  return EARTH_RADIUS_M * Math.sqrt(x * x + y * y);
}

/** Latitude span, degrees, of `m` metres along a meridian. */
export function metresToLatDegrees(m: number): number {
  return m / METRES_PER_DEGREE;
}

/**
 * Longitude half-width, degrees, of a circle of radius `m` metres centred at latitude `lat` degrees.
 * This is the exact extent of the spherical cap (asin(sin d / cos lat)), not m / (cos(lat) * metresPerDegree),
 * which is smaller and would let a bounding-box search miss points near the circle's east/west edge.
 * Returns 180 (every longitude) when the circle reaches a pole or wraps the globe, so callers can
 * compare against 180 instead of special-casing the poles.
 */
export function metresToLngDegrees(m: number, lat: number): number {
  const d = m / EARTH_RADIUS_M;
  if (!(d < Math.PI / 2)) return 180; // also catches Infinity and NaN
  const cosLat = Math.cos(lat * DEG);
  const ratio = Math.sin(d) / cosLat;
  // ratio >= 1 means the cap contains a pole; cosLat ~0 (lat = ±90) gives Infinity here, also >= 1.
  if (!(ratio < 1)) return 180;
  return Math.asin(ratio) / DEG;
}

/** Absolute longitude difference in degrees, wrapped into [0, 180]. */
export function lngDeltaDegrees(lng1: number, lng2: number): number {
  let d = Math.abs(lng1 - lng2);
  if (d > 180) d = 360 - d;
  return d;
}
