// ZoneWatch: enter/exit with hysteresis, checked fix by fix against a brute-force model (turf over every zone), also across zone changes and reused slots.
import t from 'tap';
import { booleanPointInPolygon } from '@turf/turf';
import type { CatalogListener } from '../src/catalog/city-catalog.js';
import { ZoneIndex } from '../src/catalog/zone-index.js';
import type { ZoneDef } from '../src/catalog/zones.js';
import type { CityFleet } from '../src/fleet/city-fleet.js';
import type { Fix } from '../src/protocol/messages.js';
import { ZoneWatch } from '../src/matching/zone-watch.js';
import { mulberry32 } from '../src/util/random.js';

const EXIT_FIXES = 3;
const nice = { name: 'nice' } as CityFleet;

function zonesOf(seed: number, n: number): ZoneDef[] {
  const rnd = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => {
    const cx = 7.2 + rnd() * 0.02, cy = 43.6 + rnd() * 0.02, r = 0.0005 + rnd() * 0.002;
    const k = 5 + Math.floor(rnd() * 12);
    const outer = Array.from({ length: k }, (_, j) => {
      const rr = j % 2 === 0 ? r : r * (0.4 + rnd() * 0.5), a = (j / k) * 2 * Math.PI;
      return [cx + rr * Math.cos(a), cy + rr * Math.sin(a)];
    });
    const rings = [[...outer, outer[0]!]];
    if (i % 4 === 0) rings.push([[cx - r / 5, cy - r / 5], [cx + r / 5, cy - r / 5], [cx + r / 5, cy + r / 5], [cx - r / 5, cy + r / 5], [cx - r / 5, cy - r / 5]]);
    return { id: 'z' + i, city: 'nice', kind: 'info' as const, polygon: { type: 'Polygon' as const, coordinates: rings } };
  });
}

/** The rules of ZoneWatch written plainly: turf over every zone, the smallest box first. */
class Model {
  private readonly state = new Map<string, { zone: string; outside: number }>();
  constructor(private readonly zones: () => ZoneDef[]) {}
  private area(z: ZoneDef): number {
    const xs = z.polygon.coordinates[0]!.map((p) => p[0]!), ys = z.polygon.coordinates[0]!.map((p) => p[1]!);
    return (Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys));
  }
  fix(driver: string, lat: number, lng: number, out: string[]): void {
    const s = this.state.get(driver);
    if (s) {
      const z = this.zones().find((d) => d.id === s.zone);
      if (z && booleanPointInPolygon([lng, lat], z.polygon)) {
        s.outside = 0;
        return;
      }
      if (z && ++s.outside < EXIT_FIXES) return;
      this.state.delete(driver);
      out.push(`${driver} exit ${s.zone}`);
    }
    let best: ZoneDef | undefined;
    for (const z of this.zones()) {
      if (!booleanPointInPolygon([lng, lat], z.polygon)) continue;
      if (!best || this.area(z) < this.area(best) || (this.area(z) === this.area(best) && z.id < best.id)) best = z;
    }
    if (best) {
      this.state.set(driver, { zone: best.id, outside: 0 });
      out.push(`${driver} enter ${best.id}`);
    }
  }
  zoneDeleted(id: string, out: string[]): void {
    void id;
    void out;
  }
  forget(driver: string, out: string[]): void {
    const s = this.state.get(driver);
    if (s) out.push(`${driver} exit ${s.zone}`);
    this.state.delete(driver);
  }
}

t.test('every event matches the brute-force model: jittering and driving drivers, a zone deleted and one added, slots reused', async (t) => {
  let zones = zonesOf(4, 60);
  const listeners: CatalogListener[] = [];
  const index = new ZoneIndex({ zones: (city?: string) => zones.filter((z) => city === undefined || z.city === city), addChangeListener: (l) => listeners.push(l) });
  const watch = new ZoneWatch(index, EXIT_FIXES);
  const got: string[] = [], want: string[] = [];
  watch.addZoneListener((d, z, ev) => got.push(`${d} ${ev} ${z.id}`));
  const model = new Model(() => zones);
  const rnd = mulberry32(8);
  const n = 150;
  const lat = Float64Array.from({ length: n }, () => 43.6 + rnd() * 0.02), lng = Float64Array.from({ length: n }, () => 7.2 + rnd() * 0.02);
  const ids = Array.from({ length: n }, (_, i) => 'd' + i);
  const fix = { lat: 0, lng: 0, ts: 0 } as Fix;
  const compare = (step: number): boolean => {
    const same = got.length === want.length && got.every((e, i) => e === want[i]);
    if (!same) t.same(got, want, `events up to step ${step}`);
    got.length = 0;
    want.length = 0;
    return same;
  };
  let ok = true, enters = 0;
  for (let step = 0; step < 400 && ok; step++) {
    if (step === 150) {
      // A zone drivers are in is deleted: they exit at their next fix, as the model says.
      const before = zones[0]!;
      zones = zones.slice(1);
      for (const l of listeners) l({ kind: 'zone', key: before.id, version: 2, before, after: undefined });
      model.zoneDeleted(before.id, want);
    }
    if (step === 250) {
      const after = zonesOf(99, 1).map((z) => ({ ...z, id: 'added' }))[0]!;
      zones = [...zones, after];
      for (const l of listeners) l({ kind: 'zone', key: after.id, version: 3, before: undefined, after });
    }
    if (step === 300) {
      // Drivers 0-9 leave the fleet; their ingest slots go to new drivers 'n0'-'n9'.
      const gone = ids.slice(0, 10);
      watch.forget(gone);
      for (const d of gone) model.forget(d, want);
      for (let i = 0; i < 10; i++) ids[i] = 'n' + i;
    }
    for (let d = 0; d < n; d++) {
      // A third wait (GPS jitter of ~3 m), the rest drive ~10 m a fix with jitter.
      const moving = d % 3 !== 0;
      if (moving) {
        lat[d] += (rnd() - 0.5) * 2e-4;
        lng[d] += (rnd() - 0.5) * 2e-4;
      }
      fix.lat = lat[d]! + (rnd() - 0.5) * 5e-5;
      fix.lng = lng[d]! + (rnd() - 0.5) * 5e-5;
      fix.ts = step * 1000;
      watch.moveListener(ids[d]!, nice, fix, d);
      model.fix(ids[d]!, fix.lat, fix.lng, want);
    }
    enters += want.filter((e) => e.includes(' enter ')).length;
    ok = compare(step);
  }
  t.ok(ok, 'all 400 steps agree');
  t.ok(enters > 100, `${enters} enters seen`);
});

t.test('a fix outside every city counts toward the exit; a slot reused without forget ends its previous owner\'s stay', async (t) => {
  const zones: ZoneDef[] = [{ id: 'z0', city: 'nice', kind: 'info', polygon: { type: 'Polygon', coordinates: [[[7.2, 43.6], [7.21, 43.6], [7.21, 43.61], [7.2, 43.61], [7.2, 43.6]]] } }];
  const index = new ZoneIndex({ zones: () => zones, addChangeListener: () => {} });
  const watch = new ZoneWatch(index, 2);
  const got: string[] = [];
  watch.addZoneListener((d, z, ev) => got.push(`${d} ${ev} ${z.id}`));
  const inside = { lat: 43.605, lng: 7.205, ts: 1 } as Fix;
  watch.moveListener('a', nice, inside, 0);
  t.same(got, ['a enter z0']);
  t.equal(watch.zoneOf('a')?.id, 'z0');
  watch.moveListener('a', undefined, inside, 0);
  t.same(got, ['a enter z0'], 'one fix outside: still in');
  watch.moveListener('a', nice, inside, 0);
  watch.moveListener('a', undefined, inside, 0);
  watch.moveListener('a', undefined, inside, 0);
  t.same(got, ['a enter z0', 'a exit z0'], 'two in a row: out');
  watch.moveListener('a', nice, inside, 0);
  watch.moveListener('b', nice, inside, 0);
  t.same(got.slice(2), ['a enter z0', 'a exit z0', 'b enter z0'], 'slot 0 reused by b: a leaves, b enters');
  t.equal(watch.zoneOf('a'), undefined);
  t.equal(watch.zoneOf('b')?.id, 'z0');
});
