// Nearest-k micro-benchmark: the 10 nearest of 100,000 drivers within 5 km, in-process, on the same
// seeded points: taxiway's CityFleet.nearest vs geokdbush `around` on a kdbush index of the same points vs
// Redis GEOSEARCH (one round trip per query, which is how an app would use it); answers checked by brute force.
import crypto from 'node:crypto';
import KDBush from 'kdbush';
import { around } from 'geokdbush';
import { ANY_PRODUCT, CityFleet, DriverStatus, NearestResult } from '../../src/fleet/city-fleet.js';
import { haversineMetres } from '../../src/fleet/geo.js';
import { cityPoints, log, round } from '../lib/util.js';

export interface NearestOptions {
  drivers: number;
  k: number;
  radiusM: number;
  queries: number;
  /** Timed passes over the query set (the best pass is reported, as noise only ever adds time). */
  passes: number;
  redisQueries: number;
  redisUrl: string;
  seed: number;
}

export const NEAREST_DEFAULTS: NearestOptions = { drivers: 100_000, k: 10, radiusM: 5000, queries: 20_000, passes: 5, redisQueries: 1000, redisUrl: process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379', seed: 1 };

export interface NearestResultReport {
  options: NearestOptions;
  /** µs per query, best pass. */
  taxiwayUs: number;
  /** With dispatch's filter (available and fresh; 80% of drivers available). */
  taxiwayFilteredUs: number;
  /** Dispatch's filter plus a product mask every driver matches: the cost of the product bit test alone. */
  taxiwayProductUs: number;
  /** Same, with 1% of drivers moved since the snapshot (drift widens the box). */
  taxiwayDriftUs: number;
  geokdbushUs: number;
  redisUs: number | null;
  redisError?: string;
  /** Mean drivers inside the query box (what a box scan must visit). */
  meanInRadius: number;
  /** Fraction of queries whose 10 ids agree between taxiway and geokdbush (sanity). */
  agreement: number;
  /**
   * Whether CityFleet.nearest matched a brute-force haversine scan over every live driver (same distances
   * to 1e-6 m, in order) on a sample of queries, with the fresh snapshot and again after the drift moves.
   */
  bruteForceExact: boolean;
  redisAgreement: number | null;
}

/** Best µs per query over `passes` timed passes (stopping early once 8 s were spent: slow variants). */
function timeIt(passes: number, n: number, fn: () => void): number {
  let best = Infinity;
  const end = Date.now() + 8000;
  for (let p = 0; p < passes && (p === 0 || Date.now() < end); p++) {
    const t = process.hrtime.bigint();
    fn();
    const us = Number(process.hrtime.bigint() - t) / 1000 / n;
    if (us < best) best = us;
  }
  return best;
}

export async function runNearest(o: NearestOptions): Promise<NearestResultReport> {
  log(`nearest: k=${o.k} of ${o.drivers} within ${o.radiusM} m, ${o.queries} queries × ${o.passes} passes`);
  const pts = cityPoints(o.drivers, o.seed);
  const qs = cityPoints(o.queries, o.seed + 1000);
  const fleet = new CityFleet({ name: 'bench', initialCapacity: o.drivers });
  const now = Date.now();
  for (let i = 0; i < o.drivers; i++) fleet.upsert('d' + i, pts[2 * i]!, pts[2 * i + 1]!, now, NaN, NaN, i % 5 === 4 ? DriverStatus.busy : DriverStatus.available);
  fleet.rebuildIndex();
  const kd = new KDBush(o.drivers);
  for (let i = 0; i < o.drivers; i++) kd.add(pts[2 * i + 1]!, pts[2 * i]!);
  kd.finish();

  const out = new NearestResult(o.k);
  const Q = o.queries;
  let sink = 0;
  const runTaxiway = (filter: ((s: number) => boolean) | null, upTo = Q, mask = ANY_PRODUCT) => (): void => {
    for (let q = 0; q < upTo; q++) sink += fleet.nearest(qs[2 * q]!, qs[2 * q + 1]!, o.k, o.radiusM, filter, out, mask);
  };
  const warm = Math.min(Q, 1000);
  const freshAfter = now - 30_000;
  const status = fleet.status;
  const ts = fleet.ts;
  const filter = (s: number): boolean => status[s] === DriverStatus.available && ts[s]! >= freshAfter;
  const km = o.radiusM / 1000;
  const runGeo = (): void => {
    for (let q = 0; q < Q; q++) sink += around(kd, qs[2 * q + 1]!, qs[2 * q]!, o.k, km).length;
  };
  // Warm up both (JIT), then time.
  runTaxiway(null, warm)();
  runGeo();
  const taxiwayUs = timeIt(o.passes, Q, runTaxiway(null));
  const geokdbushUs = timeIt(o.passes, Q, runGeo);
  runTaxiway(filter, warm)();
  const taxiwayFilteredUs = timeIt(o.passes, Q, runTaxiway(filter));
  // Every driver serves the city's default product (no claim), so this ranks exactly like the line above.
  const taxiMask = fleet.offered.maskOf(fleet.offered.defaultProduct);
  runTaxiway(filter, warm, taxiMask)();
  const taxiwayProductUs = timeIt(o.passes, Q, runTaxiway(filter, Q, taxiMask));

  // Sanity: the same drivers come back (ids; ties at equal distance may order differently).
  let agree = 0;
  const sample = Math.min(500, Q);
  let inRadius = 0;
  for (let q = 0; q < sample; q++) {
    const a = fleet.nearestArray(qs[2 * q]!, qs[2 * q + 1]!, o.k, o.radiusM).map((d) => d.id).sort().join(',');
    const b = (around(kd, qs[2 * q + 1]!, qs[2 * q]!, o.k, km) as number[]).map((i) => 'd' + i).sort().join(',');
    if (a === b) agree++;
  }
  const densitySample = Math.min(100, Q);
  for (let q = 0; q < densitySample; q++) {
    for (let i = 0; i < o.drivers; i++) if (haversineMetres(qs[2 * q]!, qs[2 * q + 1]!, pts[2 * i]!, pts[2 * i + 1]!) <= o.radiusM) inRadius++;
  }

  let bruteForceExact = bruteForceMatches(fleet, qs, Math.min(100, Q), o.k, o.radiusM, out);

  // Drift: move 1% of the drivers ~50 m after the snapshot (what a 200 ms rebuild interval leaves behind).
  for (let i = 0; i < o.drivers; i += 100) fleet.upsert('d' + i, pts[2 * i]! + 0.00045, pts[2 * i + 1]!, now, NaN, NaN);
  runTaxiway(null, warm)();
  const taxiwayDriftUs = timeIt(o.passes, Q, runTaxiway(null));
  bruteForceExact = bruteForceMatches(fleet, qs, Math.min(100, Q), o.k, o.radiusM, out) && bruteForceExact;

  const rep: NearestResultReport = {
    options: o, taxiwayUs, taxiwayFilteredUs, taxiwayProductUs, taxiwayDriftUs, geokdbushUs, redisUs: null,
    meanInRadius: Math.round(inRadius / densitySample), agreement: agree / sample, bruteForceExact, redisAgreement: null,
  };
  try {
    const r = await redisGeosearch(o, pts, qs, fleet);
    rep.redisUs = r.us;
    rep.redisAgreement = r.agreement;
  } catch (e) {
    rep.redisError = String((e as Error).message);
  }
  if (sink === -1) log('');
  log(`  taxiway ${round(taxiwayUs)} µs (filtered ${round(taxiwayFilteredUs)}, filtered + product ${round(taxiwayProductUs)}, drift ${round(taxiwayDriftUs)}), geokdbush ${round(geokdbushUs)} µs, brute force agrees: ${bruteForceExact}, redis ${rep.redisUs === null ? rep.redisError : round(rep.redisUs) + ' µs'}; ${rep.meanInRadius} drivers within the radius on average`);
  return rep;
}

/** Whether fleet.nearest returns the brute-force k nearest (haversine over all live drivers) for the first `n` queries. */
function bruteForceMatches(fleet: CityFleet, qs: Float64Array, n: number, k: number, radiusM: number, out: NearestResult): boolean {
  const lat = fleet.lat;
  const lng = fleet.lng;
  const d: number[] = [];
  for (let q = 0; q < n; q++) {
    const la = qs[2 * q]!;
    const ln = qs[2 * q + 1]!;
    d.length = 0;
    for (let s = 0; s < fleet.slotLimit; s++) {
      if (fleet.alive[s] !== 1) continue;
      const m = haversineMetres(la, ln, lat[s]!, lng[s]!);
      if (m <= radiusM) d.push(m);
    }
    d.sort((a, b) => a - b);
    const c = fleet.nearest(la, ln, k, radiusM, null, out);
    if (c !== Math.min(k, d.length)) return false;
    for (let i = 0; i < c; i++) {
      const s = out.slots[i]!;
      // Same distances in the same order, and each reported distance is that driver's live distance.
      if (Math.abs(out.metres[i]! - d[i]!) > 1e-6) return false;
      if (Math.abs(out.metres[i]! - haversineMetres(la, ln, lat[s]!, lng[s]!)) > 1e-6) return false;
    }
  }
  return true;
}

async function redisGeosearch(o: NearestOptions, pts: Float64Array, qs: Float64Array, fleet: CityFleet): Promise<{ us: number; agreement: number }> {
  const { Redis } = await import('ioredis');
  const r = new Redis(o.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true, connectTimeout: 3000 });
  r.on('error', () => {});
  const key = `taxiway-bench:${process.pid}:${crypto.randomBytes(4).toString('hex')}:geo`;
  try {
    await r.connect();
    for (let i = 0; i < o.drivers; i += 5000) {
      const args: Array<string | number> = [];
      for (let j = i; j < Math.min(o.drivers, i + 5000); j++) args.push(pts[2 * j + 1]!, pts[2 * j]!, 'd' + j);
      await r.geoadd(key, ...args);
    }
    const n = Math.min(o.redisQueries, o.queries);
    const q = (i: number): Promise<unknown> => r.call('GEOSEARCH', key, 'FROMLONLAT', qs[2 * i + 1]!, qs[2 * i]!, 'BYRADIUS', o.radiusM, 'm', 'ASC', 'COUNT', o.k);
    for (let i = 0; i < Math.min(50, n); i++) await q(i); // warm up
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await q(i);
    const us = Number(process.hrtime.bigint() - t) / 1000 / n;
    let agree = 0;
    const sample = Math.min(200, n);
    for (let i = 0; i < sample; i++) {
      const ids = ((await q(i)) as string[]).slice().sort().join(',');
      const mine = fleet.nearestArray(qs[2 * i]!, qs[2 * i + 1]!, o.k, o.radiusM).map((d) => d.id).sort().join(',');
      if (ids === mine) agree++;
    }
    return { us, agreement: agree / sample };
  } finally {
    await r.del(key).catch(() => 0);
    r.disconnect();
  }
}
