// Distance and degree conversions, including the exact longitude extent that keeps the index search complete.
import t from 'tap';
import { EARTH_RADIUS_M, equirectMetres, haversineMetres, metresToLatDegrees, metresToLngDegrees } from '../src/fleet/geo.js';

t.test('haversine', async (t) => {
  t.equal(haversineMetres(10, 20, 10, 20), 0);
  t.ok(Math.abs(haversineMetres(0, 0, 1, 0) - 111195.08) < 0.01, 'one degree of latitude');
  t.ok(Math.abs(haversineMetres(48.8566, 2.3522, 51.5074, -0.1278) - 343_560) < 500, 'Paris-London');
  t.ok(Math.abs(haversineMetres(0, 0, 0, 180) - Math.PI * EARTH_RADIUS_M) < 1e-6, 'antipodes');
  t.ok(Math.abs(haversineMetres(0, 179.999, 0, -179.999) - 222.39) < 0.01, 'across the antimeridian');
});

t.test('equirect is close to haversine at city scale', async (t) => {
  const h = haversineMetres(40.7, -74, 40.8, -73.9);
  t.ok(Math.abs(equirectMetres(40.7, -74, 40.8, -73.9) - h) / h < 1e-3);
  t.ok(Math.abs(equirectMetres(0, 179.999, 0, -179.999) - 222.39) < 0.01);
});

t.test('degree conversions', async (t) => {
  t.ok(Math.abs(metresToLatDegrees(111195.08) - 1) < 1e-6);
  t.ok(Math.abs(metresToLngDegrees(1000, 0) - metresToLatDegrees(1000)) < 1e-9);
  t.ok(metresToLngDegrees(1000, 60) > 2 * metresToLatDegrees(1000), 'wider than 1/cos(lat) scaling');
  t.equal(metresToLngDegrees(20_000, 89.9), 180, 'circle containing the pole covers every longitude');
  t.equal(metresToLngDegrees(Infinity, 0), 180);
  t.equal(metresToLngDegrees(1, 90), 180);
  t.equal(metresToLngDegrees(1, -90), 180);
});

t.test('every point of a circle lies within the computed longitude half-width', async (t) => {
  let worst = -Infinity;
  for (const lat of [0, 30, 60, 80, 88, -85]) {
    for (const r of [100, 5000, 50_000, 300_000]) {
      const half = metresToLngDegrees(r, lat);
      if (half >= 180) continue;
      const d = r / EARTH_RADIUS_M;
      const p1 = (lat * Math.PI) / 180;
      for (let b = 0; b < 3600; b++) {
        const brg = (b / 3600) * 2 * Math.PI;
        // Spherical destination point at distance r and bearing brg.
        const p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(brg));
        const dl = Math.atan2(Math.sin(brg) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
        worst = Math.max(worst, Math.abs((dl * 180) / Math.PI) - half);
      }
    }
  }
  t.ok(worst <= 1e-9, `max overshoot ${worst} degrees`);
});
