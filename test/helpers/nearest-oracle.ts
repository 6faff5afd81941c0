// Brute-force oracle for CityFleet.nearest tests: the k nearest live drivers by haversine, by checking all.
import type { CityFleet, NearestResult } from '../../src/fleet/city-fleet.js';
import { haversineMetres } from '../../src/fleet/geo.js';

export interface Hit { id: string; metres: number }

/**
 * The k nearest live drivers within maxM metres of (lat, lng) degrees passing `filter` and serving a
 * product of `mask` (0: any), nearest first.
 */
export function bruteForce(f: CityFleet, lat: number, lng: number, k: number, maxM: number, filter: ((s: number) => boolean) | null = null, mask = 0): Hit[] {
  const all: Hit[] = [];
  f.forEachAlive((s) => {
    const d = haversineMetres(lat, lng, f.lat[s]!, f.lng[s]!);
    const serves = mask === 0 || (f.products[s]! & mask) !== 0;
    if (d <= maxM && serves && (filter === null || filter(s))) all.push({ id: f.idAt(s), metres: d });
  });
  all.sort((a, b) => a.metres - b.metres);
  return all.slice(0, k);
}

/**
 * Run `f.nearest` and compare it with brute force: the first difference as text, or null when they agree.
 * Checks count, no duplicate or dead slot, the filter and the product mask, reported metres = live distance, nearest first;
 * equal distances may come in any order, and only then may ids differ.
 */
export function compareNearest(f: CityFleet, lat: number, lng: number, k: number, maxM: number, filter: ((s: number) => boolean) | null, out: NearestResult, mask = 0): string | null {
  const n = f.nearest(lat, lng, k, maxM, filter, out, mask);
  const want = bruteForce(f, lat, lng, k, maxM, filter, mask);
  const where = `q(${lat}, ${lng}) k=${k} r=${maxM} mask=${mask}`;
  if (n !== want.length || out.count !== n) return `${where}: count ${n}, want ${want.length}`;
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const s = out.slots[i]!;
    if (seen.has(s)) return `${where}: duplicate slot ${s}`;
    seen.add(s);
    if (f.alive[s] !== 1) return `${where}: dead slot ${s}`;
    if (filter && !filter(s)) return `${where}: filter violated at ${s}`;
    if (mask !== 0 && (f.products[s]! & mask) === 0) return `${where}: product mask violated at ${s}`;
    const live = haversineMetres(lat, lng, f.lat[s]!, f.lng[s]!);
    if (Math.abs(live - out.metres[i]!) > 1e-6) return `${where}: reported ${out.metres[i]} but live distance ${live}`;
    if (i > 0 && out.metres[i]! < out.metres[i - 1]! - 1e-6) return `${where}: not sorted at #${i}`;
    const w = want[i]!;
    if (f.idAt(s) !== w.id && Math.abs(out.metres[i]! - w.metres) > 1e-6) return `${where}: #${i} got ${f.idAt(s)} at ${out.metres[i]}, want ${w.id} at ${w.metres}`;
  }
  return null;
}
