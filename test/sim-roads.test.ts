// Tests for the road graph (build, SCC pruning, A* routes vs Bellman-Ford) and the route walker.

import tap from 'tap';
import { existsSync } from 'node:fs';
import { haversineMetres } from '../src/fleet/geo.js';
import { RoadGraph, defaultMonacoRoadsPath, type RoadFeatureCollection } from '../src/sim/road-graph.js';
import { roadSpeedKmh, roadDirections } from '../src/sim/road-build.js';
import { RouteWalker } from '../src/sim/road-walker.js';
import { mulberry32 } from '../src/util/random.js';


type Pt = [number, number]; // [lng, lat] degrees
const road = (coords: Pt[], props: Record<string, unknown>) => ({
  type: 'Feature',
  geometry: { type: 'LineString', coordinates: coords },
  properties: props,
});
/** Grid point (i, j) 0.001 degrees (~80-110 m) apart. */
const P = (i: number, j: number): Pt => [7.4 + i * 0.001, 43.7 + j * 0.001];

/** 3x3 grid with one-way rows/columns, a reverse one-way, a fast diagonal, a roundabout and a dead-end spur. */
const SYNTH: RoadFeatureCollection = {
  type: 'FeatureCollection',
  features: [
    road([P(0, 0), P(1, 0), P(2, 0)], { highway: 'residential' }),
    road([P(0, 1), P(1, 1), P(2, 1)], { highway: 'primary', oneway: 'yes', maxspeed: '50' }),
    road([P(0, 2), P(1, 2), P(2, 2)], { highway: 'residential', oneway: '-1' }),
    road([P(0, 0), P(0, 1), P(0, 2)], { highway: 'service' }),
    road([P(1, 0), P(1, 1), P(1, 2)], { highway: 'tertiary', maxspeed: '20' }),
    road([P(2, 0), P(2, 1), P(2, 2)], { highway: 'tertiary', oneway: 'yes' }),
    road([P(0, 0), P(2, 2)], { highway: 'motorway', oneway: 'yes', maxspeed: '110' }),
    road([P(1, 1), P(1.5, 1.3), P(1.3, 1.5), P(1, 1)], { highway: 'secondary', junction: 'roundabout' }),
    // Leads out of the network with no way back: must be pruned by the SCC step.
    road([P(2, 2), P(3, 3)], { highway: 'service', oneway: 'yes' }),
    { type: 'Feature', geometry: { type: 'Point', coordinates: P(5, 5) }, properties: {} },
  ],
};

function nodeAt(g: RoadGraph, p: Pt): number {
  const i = g.nearestNode(p[1], p[0]);
  return haversineMetres(g.nodeLat(i), g.nodeLng(i), p[1], p[0]) < 0.01 ? i : -1;
}

/** Single-source shortest travel times (seconds) by Bellman-Ford over the raw edge arrays. */
function bellmanFord(g: RoadGraph, src: number): Float64Array {
  const dist = new Float64Array(g.nodeCount).fill(Infinity);
  dist[src] = 0;
  for (let round = 0; round < g.nodeCount; round++) {
    let changed = false;
    for (let u = 0; u < g.nodeCount; u++) {
      if (dist[u] === Infinity) continue;
      for (let e = g.offsets[u]; e < g.offsets[u + 1]; e++) {
        const d = dist[u] + g.metres[e] / g.speedsMps[e];
        if (d < dist[g.targets[e]]) { dist[g.targets[e]] = d; changed = true; }
      }
    }
    if (!changed) break;
  }
  return dist;
}

/** Checks a route's shape: right ends, every hop an edge, metres/seconds equal the edge sums. */
function checkRoute(t: Pick<typeof tap, 'equal' | 'ok' | 'fail'>, g: RoadGraph, from: number, to: number, label: string): void {
  const r = g.route(from, to);
  if (!r) { t.fail(`${label}: no route`); return; }
  t.equal(r.nodes[0], from, `${label}: starts at from`);
  t.equal(r.nodes[r.nodes.length - 1], to, `${label}: ends at to`);
  let metres = 0;
  let seconds = 0;
  let hopsOk = true;
  for (let i = 0; i + 1 < r.nodes.length; i++) {
    const e = g.fastestEdge(r.nodes[i], r.nodes[i + 1]);
    if (e < 0) { hopsOk = false; break; }
    metres += g.metres[e];
    seconds += g.edgeSeconds(e);
  }
  t.ok(hopsOk, `${label}: consecutive nodes joined by edges`);
  t.ok(Math.abs(metres - r.metres) < 1e-6 && Math.abs(seconds - r.seconds) < 1e-6, `${label}: totals = edge sums`);
  const straight = haversineMetres(g.nodeLat(from), g.nodeLng(from), g.nodeLat(to), g.nodeLng(to));
  t.ok(r.metres >= straight * (1 - 1e-6) - 1e-3, `${label}: ${r.metres.toFixed(1)} m >= straight ${straight.toFixed(1)} m`);
}

tap.test('speed and direction tags', async (t) => {
  t.equal(roadSpeedKmh('primary', '70'), 70);
  t.equal(roadSpeedKmh('primary', undefined), 50);
  t.equal(roadSpeedKmh('motorway_link', undefined), 80, '_link uses the parent class');
  t.equal(roadSpeedKmh('living_street', 'FR:urban'), 10, 'non-numeric maxspeed falls back');
  t.ok(Math.abs(roadSpeedKmh('primary', '30 mph') - 48.28) < 0.01);
  t.equal(roadSpeedKmh('track', undefined), 30);
  t.equal(roadDirections({ oneway: 'yes' }), 1);
  t.equal(roadDirections({ oneway: '-1' }), 2);
  t.equal(roadDirections({}), 3);
  t.equal(roadDirections({ junction: 'roundabout' }), 1);
  t.equal(roadDirections({ junction: 'roundabout', oneway: 'no' }), 3);
});

tap.test('synthetic graph: directions, SCC pruning, A* = Bellman-Ford', async (t) => {
  const g = new RoadGraph(SYNTH);
  t.equal(g.inputNodeCount, 12, '9 grid + 2 roundabout + 1 spur end');
  t.equal(g.nodeCount, 11, 'spur end pruned');
  t.equal(nodeAt(g, P(3, 3)), -1);
  const has = (a: Pt, b: Pt) => g.fastestEdge(nodeAt(g, a), nodeAt(g, b)) >= 0;
  t.ok(has(P(0, 1), P(1, 1)) && !has(P(1, 1), P(0, 1)), 'oneway=yes is forward only');
  t.ok(has(P(1, 2), P(0, 2)) && !has(P(0, 2), P(1, 2)), 'oneway=-1 is reverse only');
  t.ok(has(P(0, 0), P(1, 0)) && has(P(1, 0), P(0, 0)), 'untagged is two-way');
  t.ok(has(P(1.5, 1.3), P(1.3, 1.5)) && !has(P(1.3, 1.5), P(1.5, 1.3)), 'roundabout is one-way');
  const e = g.fastestEdge(nodeAt(g, P(1, 0)), nodeAt(g, P(1, 1)));
  t.ok(Math.abs(g.speedsMps[e] - 20 / 3.6) < 1e-5, 'maxspeed km/h -> m/s');
  const diag = g.route(nodeAt(g, P(0, 0)), nodeAt(g, P(2, 2)));
  t.equal(diag?.nodes.length, 2, 'fast diagonal motorway taken');

  for (let s = 0; s < g.nodeCount; s++) {
    const bf = bellmanFord(g, s);
    for (let d = 0; d < g.nodeCount; d++) {
      const r = g.route(s, d);
      if (!r) { t.fail(`no route ${s}->${d}`); continue; }
      if (Math.abs(r.seconds - bf[d]) > 1e-9 * (1 + bf[d])) t.fail(`route ${s}->${d}: ${r.seconds} s vs BF ${bf[d]} s`);
    }
  }
  t.pass('all pairs match Bellman-Ford');
  const same = g.route(3, 3);
  t.same([same?.nodes.length, same?.metres, same?.seconds], [1, 0, 0], 'route to self');
  t.equal(g.route(-1, 3), null);
  t.equal(g.route(0, g.nodeCount), null);
});

tap.test('Monaco graph from the bundled file', async (t) => {
  const path = defaultMonacoRoadsPath();
  t.ok(existsSync(path), `roads file resolved: ${path}`);
  const g = RoadGraph.fromFile(path);
  t.ok(g.nodeCount > 1000, `${g.nodeCount} nodes (${g.inputNodeCount} before SCC)`);
  t.ok(g.edgeCount > g.nodeCount, `${g.edgeCount} edges (${g.inputEdgeCount} before SCC)`);
  t.equal(g.offsets.length, g.nodeCount + 1);
  t.equal(g.offsets[g.nodeCount], g.edgeCount);
  for (let i = 0; i < g.nodeCount; i += 97) t.equal(g.nearestNode(g.nodeLat(i), g.nodeLng(i)), i);
  // Near the Casino, Monte-Carlo: the nearest node must be within a short walk.
  const n = g.nearestNode(43.7396, 7.4277);
  t.ok(haversineMetres(g.nodeLat(n), g.nodeLng(n), 43.7396, 7.4277) < 100, 'nearest node near the Casino');

  const rand = mulberry32(42);
  for (let k = 0; k < 50; k++) {
    const a = g.randomNode(rand);
    const b = g.randomNode(rand);
    checkRoute(t, g, a, b, `pair ${k} (${a}->${b})`);
  }
});

tap.test('RouteWalker follows the route at edge speed', async (t) => {
  const g = RoadGraph.fromFile(defaultMonacoRoadsPath());
  const rand = mulberry32(7);
  for (const factor of [1, 1.5]) {
    let r = g.route(g.randomNode(rand), g.randomNode(rand));
    while (!r || r.nodes.length < 20) r = g.route(g.randomNode(rand), g.randomNode(rand));
    const w = new RouteWalker(g, r, factor);
    t.equal(w.remainingMetres, r.metres, 'starts with the whole route ahead');
    const dt = 0.5;
    let steps = 0;
    let ok = true;
    let headingOk = true;
    for (;;) {
      const [lat0, lng0, seg0, rem0] = [w.lat, w.lng, w.segment, w.remainingMetres];
      const moving = w.advance(dt);
      steps++;
      // Fastest segment touched during this step bounds how far we may have gone.
      const seg1 = moving ? w.segment : r.nodes.length - 2;
      let vmax = 0;
      for (let s = seg0; s <= seg1; s++) vmax = Math.max(vmax, w.segmentSpeedMps(s));
      const along = rem0 - w.remainingMetres;
      const chord = haversineMetres(lat0, lng0, w.lat, w.lng);
      if (along > vmax * dt + 1e-6 || chord > along * 1.001 + 1e-3 || along < -1e-9) ok = false;
      if (!(w.headingDeg >= 0 && w.headingDeg < 360)) headingOk = false;
      if (moving && w.speedMps !== w.segmentSpeedMps(w.segment)) ok = false;
      if (!moving || steps > 1e6) break;
    }
    t.ok(ok, `factor ${factor}: no step faster than its edges, position moves along the route`);
    t.ok(headingOk, 'heading in [0, 360)');
    t.ok(w.done, 'arrived');
    t.equal(w.remainingMetres, 0);
    t.equal(w.speedMps, 0);
    const last = r.nodes[r.nodes.length - 1];
    t.same([w.lat, w.lng], [g.nodeLat(last), g.nodeLng(last)], 'ends on the last node');
    // Time taken is the route's free-flow time scaled by the factor, to within one step.
    t.ok(Math.abs(steps * dt - r.seconds / factor) <= dt, `took ~${(steps * dt).toFixed(1)} s for ${(r.seconds / factor).toFixed(1)} s`);
    t.equal(w.advance(dt), false, 'stays arrived');
  }
});

tap.test('RouteWalker heading on a known straight road', async (t) => {
  const g = new RoadGraph({
    type: 'FeatureCollection',
    features: [road([[7.4, 43.7], [7.4, 43.701], [7.401, 43.701]], { highway: 'residential' })],
  });
  const a = nodeAt(g, [7.4, 43.7]);
  const c = nodeAt(g, [7.401, 43.701]);
  const w = new RouteWalker(g, g.route(a, c)!);
  w.advance(1);
  t.ok(w.headingDeg < 0.01 || w.headingDeg > 359.99, `north first: ${w.headingDeg}`);
  t.ok(Math.abs(w.speedMps - 30 / 3.6) < 1e-5, 'residential 30 km/h');
  while (w.advance(1) && w.segment === 0);
  t.ok(Math.abs(w.headingDeg - 90) < 0.1, `then east: ${w.headingDeg}`);
  const back = new RouteWalker(g, g.route(c, a)!);
  back.advance(1);
  t.ok(Math.abs(back.headingDeg - 270) < 0.1, `west: ${back.headingDeg}`);
  const still = new RouteWalker(g, g.route(a, a)!);
  t.ok(still.done && still.advance(1) === false, 'single-node route is already done');
});
