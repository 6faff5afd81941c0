// Memory of the live fleet per driver, measured in a fresh process (run with --expose-gc): the FleetRegistry
// (typed arrays, id maps, kdbush snapshot) alone, then with ingest's per-driver fix-rule state added.
import { FleetRegistry } from '../src/fleet/fleet-registry.js';
import { DriverStatus } from '../src/fleet/city-fleet.js';
import { Ingest } from '../src/ingest/ingest.js';
import { Metrics } from '../src/observability/metrics.js';
import type { HistoryStore, StoredFix } from '../src/storage/ports.js';
import { cityPoints } from './lib/util.js';

const n = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const used = (): number => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external; // external includes ArrayBuffers (typed arrays)
};
const pts = cityPoints(n, 7);
const base = used();
// Driver ids are part of the state (the fleet keeps them), so they are made inside the measured region.
const ids = Array.from({ length: n }, (_, i) => 'drv-' + i.toString(36).padStart(6, '0'));
const fleet = new FleetRegistry({ cities: [{ name: 'world', timezone: 'UTC', boundary: null }], rebuildMs: 200, expireMs: 300_000, asyncRebuildMin: Infinity });
const now = Date.now();
for (let i = 0; i < n; i++) {
  fleet.update(ids[i]!, pts[2 * i]!, pts[2 * i + 1]!, now, 90, 10);
  fleet.setStatus(ids[i]!, DriverStatus.available);
}
fleet.rebuildDirty();
const afterFleet = used();
const nullHistory: HistoryStore = { appendFixes(_f: readonly StoredFix[]) {} } as unknown as HistoryStore;
// Small cohorts: the hand-over buffers scale with the fix rate, not the fleet; this measures per-driver state
// (64 cohorts × 256 fixes, the same buffer as 16 × 1,024 before 2026-12-05).
const ingest = new Ingest(fleet, nullHistory, new Metrics(), { maxCohortFixes: 256 });
for (let i = 0; i < n; i++) ingest.accept(ids[i]!, { ts: now + 1000, lat: pts[2 * i]!, lng: pts[2 * i + 1]!, hdg: 90, spd: 10, acc: 5 }, now + 1000);
ingest.flush();
fleet.rebuildDirty();
const afterIngest = used();
const rss = process.memoryUsage().rss;
process.send?.({
  ev: 'memory', n,
  fleetBytesPerDriver: (afterFleet - base) / n,
  ingestBytesPerDriver: (afterIngest - afterFleet) / n,
  totalBytesPerDriver: (afterIngest - base) / n,
  rssMb: rss / 1048576,
  heapUsedMb: process.memoryUsage().heapUsed / 1048576,
});
process.exit(0);
