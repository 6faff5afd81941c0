// ZoneIndex: the hand-rolled point-in-polygon agrees with turf's, the index finds the smallest zone holding a point, and follows catalog changes.
import t from 'tap';
import { booleanPointInPolygon } from '@turf/turf';
import type { CatalogListener } from '../src/catalog/city-catalog.js';
import { ZoneIndex, contains } from '../src/catalog/zone-index.js';
import { buildZoneGrid, locate } from '../src/catalog/zone-grid.js';
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

/** A preferred zone by brute force: every zone turf says holds the point, the smallest box first, then the smaller id. */
function bruteForce(zones: readonly ZoneDef[], lat: number, lng: number): string | undefined {
  let best: { id: string; area: number } | undefined;
  for (const z of zones) {
    if (!booleanPointInPolygon([lng, lat], z.polygon)) continue;
    const xs = z.polygon.coordinates[0]!.map((p) => p[0]!), ys = z.polygon.coordinates[0]!.map((p) => p[1]!);
    const area = (Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys));
    if (best === undefined || area < best.area || (area === best.area && z.id < best.id)) best = { id: z.id, area };
  }
  return best?.id;
}

/** Seeded zones that stress the grid: concave stars, holes, overlaps, nested zones, shared edges, thin slivers, tiny squares. */
function stressZones(seed: number, n: number): ZoneDef[] {
  const rnd = mulberry32(seed);
  const out: ZoneDef[] = [];
  for (let i = 0; i < n; i++) {
    const cx = 7.2 + rnd() * 0.1, cy = 43.6 + rnd() * 0.1, r = 0.0005 + rnd() * 0.01;
    const kind = (['airport_queue', 'no_pickup', 'info'] as const)[i % 3]!;
    let rings: number[][][];
    switch (i % 5) {
      case 0: { // concave star
        const k = 6 + Math.floor(rnd() * 20);
        const ring = Array.from({ length: 2 * k }, (_, j) => {
          const rr = j % 2 === 0 ? r : r * (0.3 + rnd() * 0.4), a = (j / (2 * k)) * 2 * Math.PI;
          return [cx + rr * Math.cos(a), cy + rr * Math.sin(a)];
        });
        rings = [[...ring, ring[0]!]];
        break;
      }
      case 1: // a square with a square hole (axis-aligned, on binary-exact coordinates: on-edge points are exact)
        rings = [sqRing(q(cx - r), q(cy - r), q(cx + r), q(cy + r)), sqRing(q(cx - r / 3), q(cy - r / 3), q(cx + r / 3), q(cy + r / 3))];
        break;
      case 2: // a thin sliver (a no-stopping street)
        rings = [[[cx, cy], [cx + r, cy + r * 0.8], [cx + r + 0.00003, cy + r * 0.8], [cx + 0.00003, cy], [cx, cy]]];
        break;
      case 3: // a tiny square sharing its west edge with the previous zone's box
        rings = [sqRing(q(cx), q(cy), q(cx + 0.0002), q(cy + 0.0002))];
        break;
      default: { // a triangle inside the previous star, nested
        const p = out[out.length - 4];
        const [px, py] = p ? p.polygon.coordinates[0]![0]! : [cx, cy];
        rings = [[[px!, py!], [px! - r / 4, py! + r / 8], [px! - r / 4, py! - r / 8], [px!, py!]]];
      }
    }
    out.push({ id: 'z' + String(i).padStart(3, '0'), city: 'nice', kind, polygon: { type: 'Polygon', coordinates: rings } });
  }
  return out;
}
/** Rounded to 2^-20 degrees: sums and midpoints stay exact, so a point on an axis-aligned edge is on it for every test. */
const q = (v: number): number => Math.round(v * 2 ** 20) / 2 ** 20;
const sqRing = (a: number, b: number, c: number, d: number): number[][] => [[a, b], [c, b], [c, d], [a, d], [a, b]];

t.test('find and holds agree with turf over every zone: random points, vertices, points on and near edges, grid cell borders', async (t) => {
  const zones = stressZones(11, 300);
  const idx = new ZoneIndex({ zones: (city?: string) => zones.filter((z) => city === undefined || z.city === city), addChangeListener: () => {} });
  const rnd = mulberry32(5);
  const points: Array<[number, number, string]> = [];
  for (let i = 0; i < 20_000; i++) points.push([43.59 + rnd() * 0.12, 7.19 + rnd() * 0.12, 'random']);
  for (const z of zones) {
    for (const ring of z.polygon.coordinates) {
      for (let k = 0; k + 1 < ring.length; k++) {
        const [x0, y0] = ring[k]!, [x1, y1] = ring[k + 1]!;
        points.push([y0!, x0!, 'vertex']);
        // On an axis-aligned edge (exact), and 1e-7° (~1 cm) either side of every edge's midpoint.
        if (x0 === x1 || y0 === y1) points.push([(y0! + y1!) / 2, (x0! + x1!) / 2, 'on edge']);
        const mx = (x0! + x1!) / 2, my = (y0! + y1!) / 2, len = Math.hypot(x1! - x0!, y1! - y0!);
        const nx = -(y1! - y0!) / len, ny = (x1! - x0!) / len;
        points.push([my + ny * 1e-7, mx + nx * 1e-7, 'near edge'], [my - ny * 1e-7, mx - nx * 1e-7, 'near edge']);
      }
    }
  }
  let wrong = 0, wrongHolds = 0, tested = 0;
  const byWhat = new Map<string, number>();
  for (const [lat, lng, what] of points) {
    const want = bruteForce(zones, lat, lng), got = idx.find('nice', lat, lng)?.def.id;
    byWhat.set(what, (byWhat.get(what) ?? 0) + 1);
    if (got !== want) {
      if (wrong++ < 5) t.fail(`${what} ${lat},${lng}: index says ${got}, turf over all zones ${want}`);
    }
  }
  // holds (the hysteresis test) against turf, for every zone whose box is near the point.
  for (let i = 0; i < points.length; i += 7) {
    const [lat, lng] = points[i]!;
    for (const z of zones) {
      const indexed = idx.byHandleOf(zoneHandle(idx, z.id))!;
      if (lng < indexed.minLng - 1e-3 || lng > indexed.maxLng + 1e-3 || lat < indexed.minLat - 1e-3 || lat > indexed.maxLat + 1e-3) continue;
      tested++;
      if (idx.holds(indexed, lat, lng) !== booleanPointInPolygon([lng, lat], z.polygon) && wrongHolds++ < 5) t.fail(`holds ${z.id} at ${lat},${lng}`);
    }
  }
  t.equal(wrong, 0, `find agrees with turf at ${points.length} points (${[...byWhat].map(([k, v]) => `${v} ${k}`).join(', ')})`);
  t.equal(wrongHolds, 0, `holds agrees with turf in ${tested} point-zone pairs`);
});

/** The handle of zone `id` (handles are dense from 0). */
function zoneHandle(idx: ZoneIndex, id: string): number {
  for (let h = 0; ; h++) {
    const z = idx.byHandleOf(h);
    if (z === undefined) throw new Error(`no zone ${id}`);
    if (z.def.id === id) return h;
  }
}

t.test('the grid alone: points on every cell border of a zone-dense corner agree with turf', async (t) => {
  const zones = stressZones(23, 120);
  const indexed = zones.map((z) => {
    const rings = z.polygon.coordinates.map((r) => Float64Array.from(r.flat()));
    const xs = z.polygon.coordinates[0]!.map((p) => p[0]!), ys = z.polygon.coordinates[0]!.map((p) => p[1]!);
    return { id: z.id, def: z, minLng: Math.min(...xs), minLat: Math.min(...ys), maxLng: Math.max(...xs), maxLat: Math.max(...ys), rings };
  });
  indexed.sort((a, b) => (a.maxLng - a.minLng) * (a.maxLat - a.minLat) - (b.maxLng - b.minLng) * (b.maxLat - b.minLat) || (a.id < b.id ? -1 : 1));
  const g = buildZoneGrid(indexed);
  t.ok(g.nx > 100 && g.ny > 100, `grid ${g.nx}×${g.ny}`);
  let wrong = 0, n = 0;
  const counts = { none: 0, whole: 0, boundary: 0 };
  for (const w of g.cells) counts[w >> 8 === 0 ? 'none' : w >> 8 > 0 ? 'whole' : 'boundary']++;
  t.ok(counts.whole > 0 && counts.boundary > 0, `cells: ${JSON.stringify(counts)}`);
  const rnd = mulberry32(9);
  for (let i = 0; i < 3000; i++) {
    // A cell corner, and points a hair either side of it.
    const x = Math.floor(rnd() * (g.nx - 1)), y = Math.floor(rnd() * (g.ny - 1));
    const lng = g.gx + x / g.invLng, lat = g.gy + y / g.invLat;
    for (const [dy, dx] of [[0, 0], [1e-13, -1e-13], [-1e-13, 1e-13]] as const) {
      n++;
      const p = locate(g, indexed, lat + dy!, lng + dx!);
      const got = p < 0 ? undefined : indexed[p]!.id;
      if (got !== bruteForce(zones, lat + dy!, lng + dx!) && wrong++ < 5) t.fail(`cell corner ${lat + dy!},${lng + dx!}: ${got}`);
    }
  }
  t.equal(wrong, 0, `${n} points on cell corners`);
});
