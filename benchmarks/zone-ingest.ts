// In-process ingest cost per fix with 1,000 zones in the city against none, same run, seeded: the price of zone enter/exit detection.
// node --expose-gc dist/benchmarks/zone-ingest.js [--scenario city|uniform] [--drivers N] [--fixes N] [--zones N] [--rounds N]   (JSON on stdout)
//
// What it measures: wall time of Ingest.accept (judge, live fleet update, move listeners) per fix, with a
// ZoneWatch over N zones against no zones, on the same seeded track, alternating runs; no history store
// (the zone share is as large as it can be). Scenarios:
//  - city (default): zones shaped like a real city's: 2 airports (~2.5 km, a hole for the terminal, two
//    taxi ranks nested inside), 30 stations and malls (100-250 m), the rest no-stopping strips along
//    streets (40-200 m by 12-25 m), dense in the centre; drivers like a fleet: dense in the centre, a
//    quarter waiting (GPS jitter of ~5 m), some queued at the airports, the rest driving 5-14 m/s with
//    slowly turning headings, one fix a second each.
//  - uniform (the benchmark of 2026-12-04): 16-gons of 150-450 m at uniform random places, drivers on
//    uniform random walks of ~10 m a fix.
import os from 'node:os';
import type { Polygon } from 'geojson';
import type { CatalogListener } from '../src/catalog/city-catalog.js';
import { ZoneIndex } from '../src/catalog/zone-index.js';
import type { ZoneDef } from '../src/catalog/zones.js';
import { FleetRegistry } from '../src/fleet/fleet-registry.js';
import { Ingest } from '../src/ingest/ingest.js';
import { ZoneWatch } from '../src/matching/zone-watch.js';
import { Metrics } from '../src/observability/metrics.js';
import type { Fix } from '../src/protocol/messages.js';
import type { HistoryStore } from '../src/storage/ports.js';
import { mulberry32 } from '../src/util/random.js';

const arg = (k: string, d: number): number => {
  const i = process.argv.indexOf(k);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const drivers = arg('--drivers', 10_000);
const fixes = arg('--fixes', 300_000);
const zoneCount = arg('--zones', 1000);
const rounds = arg('--rounds', 7);

const scenario = process.argv.includes('--scenario') ? process.argv[process.argv.indexOf('--scenario') + 1]! : 'city';
if (scenario !== 'city' && scenario !== 'uniform') throw new Error(`--scenario ${scenario}: city or uniform`);

/** The city: 0.3° × 0.3° around Nice (~24 km × 33 km). */
const LAT0 = 43.6, LNG0 = 7.1, SPAN = 0.3;
const CLAT = LAT0 + SPAN / 2, CLNG = LNG0 + SPAN / 2;
/** Degrees of latitude per metre, and of longitude per metre at this latitude. */
const DLAT = 1 / 111_320, DLNG = 1 / (111_320 * Math.cos((CLAT * Math.PI) / 180));
const BOUNDARY: Polygon = { type: 'Polygon', coordinates: [[[LNG0, LAT0], [LNG0 + SPAN, LAT0], [LNG0 + SPAN, LAT0 + SPAN], [LNG0, LAT0 + SPAN], [LNG0, LAT0]]] };
/** Two airports (centre lat, lng) away from the centre, like Nice's on the coast. */
const AIRPORTS = [[LAT0 + 0.04, LNG0 + 0.06], [LAT0 + 0.25, LNG0 + 0.24]] as const;

/** A normal deviate (Box-Muller), for places dense in the centre. */
const gauss = (rnd: () => number): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
const inCity = (lat: number, lng: number): [number, number] => [Math.min(LAT0 + SPAN - 0.002, Math.max(LAT0 + 0.002, lat)), Math.min(LNG0 + SPAN - 0.002, Math.max(LNG0 + 0.002, lng))];

/** A closed ring from [dx, dy] metre offsets around (lat, lng), rotated by `rot` radians. */
function ring(lat: number, lng: number, rot: number, pts: ReadonlyArray<readonly [number, number]>): number[][] {
  const r = pts.map(([x, y]) => [lng + (x * Math.cos(rot) - y * Math.sin(rot)) * DLNG, lat + (x * Math.sin(rot) + y * Math.cos(rot)) * DLAT]);
  r.push(r[0]!);
  return r;
}
const rect = (w: number, h: number): Array<[number, number]> => [[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]];

function cityZones(n: number): ZoneDef[] {
  const rnd = mulberry32(7);
  const out: ZoneDef[] = [];
  const zone = (kind: ZoneDef['kind'], coordinates: number[][][]): void => {
    if (out.length < n) out.push({ id: 'z' + out.length, city: 'nice', kind, polygon: { type: 'Polygon', coordinates } });
  };
  for (const [lat, lng] of AIRPORTS) {
    // An irregular 12-gon of ~2.5 km × 1.2 km with the terminal (a hole), and two taxi ranks inside.
    const outer = Array.from({ length: 12 }, (_, k): [number, number] => {
      const a = (k / 12) * 2 * Math.PI, f = 0.8 + rnd() * 0.2;
      return [Math.cos(a) * 1250 * f, Math.sin(a) * 600 * f];
    });
    zone('info', [ring(lat, lng, 0.3, outer), ring(lat, lng, 0.3, rect(300, 120)).reverse()]);
    zone('airport_queue', [ring(lat - 250 * DLAT, lng, 0.3, rect(150, 60))]);
    zone('airport_queue', [ring(lat + 250 * DLAT, lng, 0.3, rect(150, 60))]);
  }
  for (let i = 0; i < 30; i++) {
    const [lat, lng] = inCity(CLAT + gauss(rnd) * 0.05, CLNG + gauss(rnd) * 0.05), r = 100 + rnd() * 150, k = 8 + Math.floor(rnd() * 16);
    zone('info', [ring(lat, lng, 0, Array.from({ length: k }, (_, j): [number, number] => [Math.cos((j / k) * 2 * Math.PI) * r, Math.sin((j / k) * 2 * Math.PI) * r]))]);
  }
  while (out.length < n) {
    const [lat, lng] = inCity(CLAT + gauss(rnd) * 0.04, CLNG + gauss(rnd) * 0.04);
    zone('no_pickup', [ring(lat, lng, rnd() * Math.PI, rect(40 + rnd() * 160, 12 + rnd() * 13))]);
  }
  return out;
}

/** The benchmark of 2026-12-04: 16-gons of about 150-450 m radius at seeded uniform random places (~10% of the city). */
function uniformZones(n: number): ZoneDef[] {
  const rnd = mulberry32(7);
  const kinds = ['airport_queue', 'no_pickup', 'info'] as const;
  return Array.from({ length: n }, (_, i) => {
    const r = 0.0015 + rnd() * 0.003;
    const cLat = LAT0 + r + rnd() * (SPAN - 2 * r), cLng = LNG0 + r + rnd() * (SPAN - 2 * r);
    const ring = Array.from({ length: 16 }, (_, k) => [cLng + r * Math.cos((k / 16) * 2 * Math.PI), cLat + r * Math.sin((k / 16) * 2 * Math.PI)]);
    ring.push(ring[0]!);
    return { id: 'z' + i, city: 'nice', kind: kinds[i % 3]!, polygon: { type: 'Polygon', coordinates: [ring] } };
  });
}

/** A pipeline: fleet + ingest (no history store: the difference is the point) + a ZoneWatch over `defs`. */
function pipeline(defs: ZoneDef[]): { ingest: Ingest; events: () => number } {
  const fleet = new FleetRegistry({ cities: [{ name: 'nice', timezone: 'Europe/Paris', boundary: BOUNDARY }], rebuildMs: 200, expireMs: 36_000_000 });
  const history: HistoryStore = { appendFixes() {}, backlog: () => 0, track: async () => ({ points: [] }) } as unknown as HistoryStore;
  const ingest = new Ingest(fleet, history, new Metrics(), { sealMs: 3_600_000, maxCohortFixes: 4096 });
  const index = new ZoneIndex({ zones: (city?: string) => defs.filter((z) => city === undefined || z.city === city), addChangeListener: (_l: CatalogListener) => {} });
  const watch = new ZoneWatch(index, 3);
  let n = 0;
  watch.addZoneListener(() => n++);
  ingest.addMoveListener(watch.moveListener);
  return { ingest, events: () => n };
}

/** Seeded tracks, round-robin order, one fix a second per driver (see the scenarios above). */
function track(): { lat: Float64Array; lng: Float64Array; ts: Float64Array } {
  const rnd = mulberry32(1);
  const lat = new Float64Array(fixes), lng = new Float64Array(fixes), ts = new Float64Array(fixes);
  const dLat = new Float64Array(drivers), dLng = new Float64Array(drivers), hdg = new Float64Array(drivers), speed = new Float64Array(drivers);
  if (scenario === 'uniform') {
    // In the order of 2026-12-04's version, so its tracks are the same.
    for (let d = 0; d < drivers; d++) dLat[d] = LAT0 + 0.01 + rnd() * (SPAN - 0.02);
    for (let d = 0; d < drivers; d++) dLng[d] = LNG0 + 0.01 + rnd() * (SPAN - 0.02);
    for (let d = 0; d < drivers; d++) hdg[d] = rnd() * 2 * Math.PI;
  }
  for (let d = 0; d < drivers && scenario === 'city'; d++) {
    hdg[d] = rnd() * 2 * Math.PI;
    const role = rnd();
    if (role < 0.05) {
      // Queued at an airport rank: waiting, inside it.
      const [aLat, aLng] = AIRPORTS[d % 2]!;
      dLat[d] = aLat + (d % 4 < 2 ? -250 : 250) * DLAT + gauss(rnd) * 15 * DLAT;
      dLng[d] = aLng + gauss(rnd) * 40 * DLNG;
      speed[d] = 0;
    } else {
      [dLat[d], dLng[d]] = inCity(CLAT + gauss(rnd) * 0.04, CLNG + gauss(rnd) * 0.04);
      speed[d] = role < 0.3 ? 0 : 5 + rnd() * 9;
    }
  }
  const t0 = Date.now() - 36_000_000;
  for (let i = 0; i < fixes; i++) {
    const d = i % drivers;
    let jLat = 0, jLng = 0;
    if (scenario === 'uniform') {
      hdg[d]! += (rnd() - 0.5) * 0.3;
      dLat[d]! += Math.sin(hdg[d]!) * 9e-5;
      dLng[d]! += Math.cos(hdg[d]!) * 1.2e-4;
    } else {
      hdg[d]! += (rnd() - 0.5) * 0.2;
      [dLat[d], dLng[d]] = inCity(dLat[d]! + Math.sin(hdg[d]!) * speed[d]! * DLAT, dLng[d]! + Math.cos(hdg[d]!) * speed[d]! * DLNG);
      // GPS jitter of ~5 m around the true position (a waiting driver's fixes wander, it does not).
      jLat = gauss(rnd) * 5 * DLAT;
      jLng = gauss(rnd) * 5 * DLNG;
    }
    lat[i] = dLat[d]! + jLat;
    lng[i] = dLng[d]! + jLng;
    ts[i] = t0 + Math.floor(i / drivers) * 1000 + (d % 997);
  }
  return { lat, lng, ts };
}

function run(defs: ZoneDef[], tr: ReturnType<typeof track>, ids: string[]): { nsPerFix: number; cpuNsPerFix: number; events: number } {
  const p = pipeline(defs);
  const fix: Fix = { lat: 0, lng: 0, ts: 0, hdg: 0, spd: 0, acc: 10 } as Fix;
  const now = Date.now();
  // Start each timed run from a collected heap: the garbage of the run before must not be charged to this one.
  (globalThis as { gc?: () => void }).gc?.();
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < fixes; i++) {
    fix.lat = tr.lat[i]!;
    fix.lng = tr.lng[i]!;
    fix.ts = tr.ts[i]!;
    p.ingest.accept(ids[i % drivers]!, fix, now);
  }
  const nsPerFix = ((performance.now() - w0) * 1e6) / fixes;
  const c = process.cpuUsage(c0);
  p.ingest.flush(); // ends its seal timer
  return { nsPerFix, cpuNsPerFix: ((c.user + c.system) * 1e3) / fixes, events: p.events() };
}

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

function main(): void {
  const tr = track();
  const ids = Array.from({ length: drivers }, (_, i) => 'd' + i);
  const many = scenario === 'city' ? cityZones(zoneCount) : uniformZones(zoneCount);
  run([], tr, ids); // warm-up of both paths
  run(many, tr, ids);
  const none: number[] = [], some: number[] = [], cpuNone: number[] = [], cpuSome: number[] = [];
  let events = 0;
  // Alternate, so drift of the machine (2 shared cores) hits both sides alike.
  for (let r = 0; r < rounds; r++) {
    const o = run([], tr, ids);
    none.push(o.nsPerFix);
    cpuNone.push(o.cpuNsPerFix);
    const z = run(many, tr, ids);
    some.push(z.nsPerFix);
    cpuSome.push(z.cpuNsPerFix);
    events = z.events;
  }
  const a = median(none), b = median(some);
  console.log(JSON.stringify({
    scenario, drivers, fixes, zones: zoneCount, rounds, zoneEventsPerRun: events,
    nsPerFixNoZones: Math.round(a), nsPerFixWithZones: Math.round(b),
    fixesPerSecNoZones: Math.round(1e9 / a), fixesPerSecWithZones: Math.round(1e9 / b),
    overheadPct: Math.round(((b - a) / a) * 1000) / 10,
    // The fastest run of each side: other load only ever adds time, but on the busy shared machine of
    // 2026-12-05 the minima were no steadier than the medians (one lucky run decides them).
    minNsPerFixNoZones: Math.round(Math.min(...none)), minNsPerFixWithZones: Math.round(Math.min(...some)),
    minOverheadPct: Math.round(((Math.min(...some) - Math.min(...none)) / Math.min(...none)) * 1000) / 10,
    allNoZones: none.map(Math.round), allWithZones: some.map(Math.round),
    // CPU time of the process (all its threads) per fix: not inflated by time the machine gave to others.
    cpuNsPerFixNoZones: Math.round(median(cpuNone)), cpuNsPerFixWithZones: Math.round(median(cpuSome)),
    cpuOverheadPct: Math.round(((median(cpuSome) - median(cpuNone)) / median(cpuNone)) * 1000) / 10,
    load: os.loadavg().map((l) => Math.round(l * 100) / 100),
  }, null, 1));
}

main();
