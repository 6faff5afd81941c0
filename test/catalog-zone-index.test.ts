// ZoneIndex: the hand-rolled point-in-polygon agrees with turf's, the index finds the smallest zone holding a point, and follows catalog changes.
import t from 'tap';
import { booleanPointInPolygon } from '@turf/turf';
import type { CatalogListener } from '../src/catalog/city-catalog.js';
import { ZoneIndex, contains } from '../src/catalog/zone-index.js';
import type { ZoneDef } from '../src/catalog/zones.js';
import { mulberry32 } from '../src/util/random.js';

const sq = (id: string, kind: ZoneDef['kind'], a: number, b: number, c: number, d: number): ZoneDef => ({
  id, city: 'nice', kind, polygon: { type: 'Polygon', coordinates: [[[a, b], [c, b], [c, d], [a, d], [a, b]]] },
});

t.test('contains agrees with turf booleanPointInPolygon (holes, concave rings, edges and vertices inside)', async (t) => {
  const rnd = mulberry32(3);
  const outer = Array.from({ length: 24 }, (_, k) => {
    const r = k % 2 === 0 ? 1 : 0.45; // a star: concave
    return [Math.cos((k / 24) * 2 * Math.PI) * r, Math.sin((k / 24) * 2 * Math.PI) * r];
  });
  outer.push(outer[0]!);
  const hole = [[-0.1, -0.1], [0.1, -0.1], [0.1, 0.1], [-0.1, 0.1], [-0.1, -0.1]];
  const poly = { type: 'Polygon' as const, coordinates: [outer, hole] };
  const rings = poly.coordinates.map((r) => Float64Array.from(r.flat()));
  let disagree = 0;
  for (let i = 0; i < 20_000; i++) {
    const lng = rnd() * 2.2 - 1.1, lat = rnd() * 2.2 - 1.1;
    if (contains(rings, lat, lng) !== booleanPointInPolygon([lng, lat], poly)) disagree++;
  }
  t.equal(disagree, 0, 'random points');
  for (const [lng, lat] of [...outer, ...hole]) t.ok(contains(rings, lat!, lng!), `vertex ${lng},${lat} is inside`);
  t.ok(contains(rings, -0.1, 0), 'a point on a hole edge counts as inside (as turf)');
  t.equal(contains(rings, -0.1, 0), booleanPointInPolygon([0, -0.1], poly));
});

t.test('find: smallest zone first, kind filter, edges inside, and catalog changes rebuild the city', async (t) => {
  let zones: ZoneDef[] = [sq('big', 'info', 7.2, 43.6, 7.3, 43.7), sq('rank', 'airport_queue', 7.21, 43.61, 7.22, 43.62), sq('np', 'no_pickup', 7.25, 43.65, 7.26, 43.66)];
  const listeners: CatalogListener[] = [];
  const idx = new ZoneIndex({ zones: (city?: string) => zones.filter((z) => city === undefined || z.city === city), addChangeListener: (l) => listeners.push(l) });
  t.equal(idx.find('nice', 43.615, 7.215)?.def.id, 'rank', 'the smaller zone wins');
  t.equal(idx.find('nice', 43.615, 7.215, 'info')?.def.id, 'big', 'kind filter');
  t.equal(idx.find('nice', 43.62, 7.22)?.def.id, 'rank', 'a corner counts as inside');
  t.equal(idx.find('nice', 43.7, 7.3)?.def.id, 'big', 'the far corner of the extent too');
  t.equal(idx.find('nice', 43.8, 7.25), undefined);
  t.equal(idx.find('paris', 43.615, 7.215), undefined);
  t.throws(() => idx.checkPickup('nice', 43.655, 7.255), { code: 'pickup_not_allowed', zone: 'np' });
  t.doesNotThrow(() => idx.checkPickup('nice', 43.615, 7.215));
  const rank = idx.find('nice', 43.615, 7.215)!;
  const before = zones.find((z) => z.id === 'rank');
  zones = zones.filter((z) => z.id !== 'rank');
  for (const l of listeners) l({ kind: 'zone', key: 'rank', version: 2, before, after: undefined });
  t.equal(idx.find('nice', 43.615, 7.215)?.def.id, 'big', 'deleted zone gone');
  t.equal(rank.live, false, 'the old entry is marked dead (a driver inside it exits)');
  t.equal(idx.byHandleOf(rank.handle)?.def.id, 'rank', 'its handle still names it');
});
