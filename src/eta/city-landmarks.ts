// Named places whose distance to a trip's ends shapes its duration (airports, the centre), per known city.

export interface Landmark { name: string; lat: number; lng: number }

/**
 * Hand-picked, public coordinates. Airport trips run on highways (fast per metre, slow to get out of
 * town); the centre is where congestion is. The trees get log distance from pickup and dropoff to each.
 */
export const CITY_LANDMARKS: ReadonlyArray<Landmark> = [
  { name: 'nyc-jfk', lat: 40.6413, lng: -73.7781 },
  { name: 'nyc-lga', lat: 40.7769, lng: -73.874 },
  { name: 'nyc-ewr', lat: 40.6895, lng: -74.1745 },
  { name: 'nyc-midtown', lat: 40.7549, lng: -73.984 },
  { name: 'nyc-downtown', lat: 40.7128, lng: -74.006 },
  { name: 'porto-opo', lat: 41.2481, lng: -8.6814 },
  { name: 'porto-aliados', lat: 41.1456, lng: -8.6109 },
];

/** Landmarks within `radiusM` of the city's origin (the trips' median pickup): a city's own, none elsewhere. */
export function landmarksNear(lat: number, lng: number, radiusM = 60_000): Landmark[] {
  const k = 111_195;
  return CITY_LANDMARKS.filter((l) => Math.hypot((l.lat - lat) * k, (l.lng - lng) * k * Math.cos((lat * Math.PI) / 180)) <= radiusM);
}
