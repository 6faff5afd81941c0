// In-process ingest cost per fix with 1,000 zones in the city against none, same run, seeded: the price of zone enter/exit detection.
// node --expose-gc dist/benchmarks/zone-ingest.js [--drivers N] [--fixes N] [--zones N] [--rounds N]   (JSON on stdout)
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

/** The city: 0.3° × 0.3° around Nice. Zones: 16-gons of about 150-450 m radius at seeded random places (~10% of the city). */
const LAT0 = 43.6, LNG0 = 7.1, SPAN = 0.3;
const BOUNDARY: Polygon = { type: 'Polygon', coordinates: [[[LNG0, LAT0], [LNG0 + SPAN, LAT0], [LNG0 + SPAN, LAT0 + SPAN], [LNG0, LAT0 + SPAN], [LNG0, LAT0]]] };

function zones(n: number): ZoneDef[] {
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

/** Seeded random walks: per driver a start and a heading, ~10 m per fix with jitter; round-robin order. */
function track(): { lat: Float64Array; lng: Float64Array; ts: Float64Array } {
  const rnd = mulberry32(1);
  const lat = new Float64Array(fixes), lng = new Float64Array(fixes), ts = new Float64Array(fixes);
  const dLat = new Float64Array(drivers).map(() => LAT0 + 0.01 + rnd() * (SPAN - 0.02));
  const dLng = new Float64Array(drivers).map(() => LNG0 + 0.01 + rnd() * (SPAN - 0.02));
  const hdg = new Float64Array(drivers).map(() => rnd() * 2 * Math.PI);
  const t0 = Date.now() - 36_000_000;
  for (let i = 0; i < fixes; i++) {
    const d = i % drivers;
    hdg[d]! += (rnd() - 0.5) * 0.3;
    dLat[d]! += Math.sin(hdg[d]!) * 9e-5;
    dLng[d]! += Math.cos(hdg[d]!) * 1.2e-4;
    lat[i] = dLat[d]!;
    lng[i] = dLng[d]!;
    ts[i] = t0 + Math.floor(i / drivers) * 1000 + (d % 997);
  }
  return { lat, lng, ts };
}

function run(defs: ZoneDef[], tr: ReturnType<typeof track>, ids: string[]): { nsPerFix: number; events: number } {
  const p = pipeline(defs);
  const fix: Fix = { lat: 0, lng: 0, ts: 0, hdg: 0, spd: 0, acc: 10 } as Fix;
  const now = Date.now();
  // Start each timed run from a collected heap: the garbage of the run before must not be charged to this one.
  (globalThis as { gc?: () => void }).gc?.();
  const w0 = performance.now();
  for (let i = 0; i < fixes; i++) {
    fix.lat = tr.lat[i]!;
    fix.lng = tr.lng[i]!;
    fix.ts = tr.ts[i]!;
    p.ingest.accept(ids[i % drivers]!, fix, now);
  }
  const nsPerFix = ((performance.now() - w0) * 1e6) / fixes;
  p.ingest.flush(); // ends its seal timer
  return { nsPerFix, events: p.events() };
}

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

function main(): void {
  const tr = track();
  const ids = Array.from({ length: drivers }, (_, i) => 'd' + i);
  const many = zones(zoneCount);
  run([], tr, ids); // warm-up of both paths
  run(many, tr, ids);
  const none: number[] = [], some: number[] = [];
  let events = 0;
  // Alternate, so drift of the machine (2 shared cores) hits both sides alike.
  for (let r = 0; r < rounds; r++) {
    none.push(run([], tr, ids).nsPerFix);
    const z = run(many, tr, ids);
    some.push(z.nsPerFix);
    events = z.events;
  }
  const a = median(none), b = median(some);
  console.log(JSON.stringify({
    drivers, fixes, zones: zoneCount, rounds, zoneEventsPerRun: events,
    nsPerFixNoZones: Math.round(a), nsPerFixWithZones: Math.round(b),
    fixesPerSecNoZones: Math.round(1e9 / a), fixesPerSecWithZones: Math.round(1e9 / b),
    overheadPct: Math.round(((b - a) / a) * 1000) / 10,
    allNoZones: none.map(Math.round), allWithZones: some.map(Math.round),
  }, null, 1));
}

main();
