// Ingest refuses fixes (without judging or storing them) while storage is too far behind: bounded memory.
import t from 'tap';
import { FleetRegistry } from '../src/fleet/fleet-registry.js';
import { Ingest, MAX_STORAGE_BACKLOG } from '../src/ingest/ingest.js';
import { FixVerdict } from '../src/ingest/jump-filter.js';
import { Metrics } from '../src/observability/metrics.js';
import { MemoryStorage } from '../src/storage/memory-storage.js';

/** The in-memory store with a backlog the test controls (a store whose commits lag). */
class LaggingStorage extends MemoryStorage {
  lag = 0;
  backlog(): number {
    return this.lag;
  }
}

t.test('overloaded storage: fixes refused and counted, accepted again once it catches up', async (t) => {
  const store = new LaggingStorage();
  const metrics = new Metrics();
  const fleet = new FleetRegistry({ cities: [{ name: 'world', timezone: 'UTC', boundary: null }], rebuildMs: 1000, expireMs: 60_000 });
  const ingest = new Ingest(fleet, store, metrics);
  const now = Date.now();
  const fix = (i: number) => ({ ts: now - 10_000 + i * 1000, lat: 41.15 + i * 1e-4, lng: -8.61, hdg: NaN, spd: NaN, acc: NaN });
  t.equal(ingest.accept('d1', fix(0), now), FixVerdict.live);
  store.lag = MAX_STORAGE_BACKLOG + 1;
  t.equal(ingest.accept('d1', fix(1), now), FixVerdict.overloaded);
  t.equal(fleet.position('d1')!.lat, 41.15, 'the refused fix did not move the driver');
  store.lag = 0;
  t.equal(ingest.accept('d1', fix(1), now), FixVerdict.live, 'the resent fix is accepted, not a duplicate');
  ingest.flush();
  await store.flush();
  const page = await store.track('d1', 0, now + 1, 100);
  t.equal(page.points.length, 2);
  const m = await metrics.registry.getSingleMetric('taxiway_fixes_rejected_total')!.get();
  t.equal(m.values.find((v) => v.labels.reason === 'overloaded')?.value, 1);
});
