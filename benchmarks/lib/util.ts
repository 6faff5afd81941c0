// Small shared helpers for the benchmark tools: seeded randomness, a city-shaped fleet, percentiles, clocks.

/** mulberry32: a tiny seeded PRNG; every random thing in the benchmarks comes from one of these. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal from a uniform source (Box-Muller). */
export function gauss(r: () => number): number {
  let u = r();
  if (u < 1e-12) u = 1e-12;
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

/** The benchmark city: centred on Paris; metres → degrees at that latitude. */
export const CITY = { lat: 48.8566, lng: 2.3522 };
const M_PER_DEG_LAT = 111_195;
const M_PER_DEG_LNG = M_PER_DEG_LAT * Math.cos((CITY.lat * Math.PI) / 180);

/**
 * A realistic metro fleet (or demand) point: 60% in a dense core (gaussian, σ = 6 km), 40% spread
 * uniformly over a 30 km disc. Writes [lat, lng] into out at i.
 */
export function cityPoint(r: () => number, out: Float64Array, i: number): void {
  let dx: number;
  let dy: number;
  if (r() < 0.6) {
    dx = gauss(r) * 6000;
    dy = gauss(r) * 6000;
  } else {
    const rad = 30_000 * Math.sqrt(r());
    const a = 2 * Math.PI * r();
    dx = rad * Math.cos(a);
    dy = rad * Math.sin(a);
  }
  out[2 * i] = CITY.lat + dy / M_PER_DEG_LAT;
  out[2 * i + 1] = CITY.lng + dx / M_PER_DEG_LNG;
}

/** n seeded city points as [lat0, lng0, lat1, lng1, ...]. */
export function cityPoints(n: number, seed: number): Float64Array {
  const r = rng(seed);
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) cityPoint(r, out, i);
  return out;
}

/** Wall-clock milliseconds with sub-ms precision, comparable across processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Summary of a latency sample (same unit as the input). */
export interface Summary { n: number; min: number; p50: number; p90: number; p99: number; p999: number; max: number; mean: number }

export function summarize(values: ArrayLike<number>): Summary {
  const n = values.length;
  if (n === 0) return { n: 0, min: NaN, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
  const a = Float64Array.from(values as ArrayLike<number>).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += a[i]!;
  const q = (p: number): number => a[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]!;
  return { n, min: a[0]!, p50: q(0.5), p90: q(0.9), p99: q(0.99), p999: q(0.999), max: a[n - 1]!, mean: sum / n };
}

/** Round for reports: 3 significant digits below 100, integers above. */
export function round(v: number): number {
  if (!Number.isFinite(v)) return v;
  const a = Math.abs(v);
  if (a >= 100) return Math.round(v);
  if (a >= 10) return Math.round(v * 10) / 10;
  if (a >= 1) return Math.round(v * 100) / 100;
  return Math.round(v * 1000) / 1000;
}

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}
