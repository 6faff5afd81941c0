// Per-window outcome aggregates of one switchback experiment: a ring of the latest windows in flat typed arrays.

/** Job-level measures, each observed at most once per ended job (docs/architecture.md, "Experiments"). */
export const MEASURES = ['time_to_first_offer_s', 'time_to_accept_s', 'offers_per_job', 'pickup_eta_s', 'pickup_wait_s'] as const;
export type Measure = (typeof MEASURES)[number];

/** Per-window counts: ended jobs, of them fulfilled (got a driver) and cancelled by their rider, and utilisation samples. */
export const COUNTS = ['jobs', 'fulfilled', 'rider_cancelled', 'busy_samples', 'online_samples'] as const;
export type Count = (typeof COUNTS)[number];

/** Histogram resolution: bucket 0 holds values below HIST_LO, bucket k ≥ 1 holds [HIST_LO·r^(k-1), HIST_LO·r^k). */
const HIST_LO = 0.01;
const HIST_RATIO = 1.2;
/** 96 buckets reach 0.01·1.2^95 ≈ 340,000 (s or offers); larger values land in the last bucket. */
export const HIST_BUCKETS = 96;
const LOG_RATIO = Math.log(HIST_RATIO);

const NC = COUNTS.length;
const NM = MEASURES.length;
/** Float64 fields of one window: the counts, then n and sum of each measure. */
const F64_PER_WINDOW = NC + 2 * NM;

/** One window as persisted (embedded mode): its counts and sums, and its histograms as sparse [index, count] pairs. */
export interface StoredWindow {
  f64: number[];
  hist: number[];
}

/** The bucket of value `v` (≥ 0). */
export function bucketOf(v: number): number {
  if (!(v >= HIST_LO)) return 0;
  return Math.min(HIST_BUCKETS - 1, 1 + Math.floor(Math.log(v / HIST_LO) / LOG_RATIO));
}

/** A value standing for bucket `k`: its geometric middle (within ±10% of anything in it), HIST_LO/2 for bucket 0. */
export function bucketValue(k: number): number {
  return k === 0 ? HIST_LO / 2 : HIST_LO * Math.pow(HIST_RATIO, k - 0.5);
}

/**
 * The `kept` latest windows of one experiment. Window w lives in slot w mod kept; a newer window evicts
 * the older one in its slot, an observation for a window older than its slot's is dropped (returns false).
 * Memory is fixed at construction: kept × (10 float64 + 5 × 96 uint32) ≈ 2 KB per window.
 */
export class ExperimentWindows {
  /** Window index held by each slot; NaN when empty. */
  private readonly index: Float64Array;
  private readonly f64: Float64Array;
  private readonly hist: Uint32Array;
  private readonly reader: WindowReader;
  /** Windows changed, and windows evicted, since the last `takeChanges` (for write-through persistence). */
  private changed = new Set<number>();
  private evicted: number[] = [];

  constructor(readonly kept: number) {
    this.index = new Float64Array(kept).fill(NaN);
    this.f64 = new Float64Array(kept * F64_PER_WINDOW);
    this.hist = new Uint32Array(kept * NM * HIST_BUCKETS);
    this.reader = new WindowReader(this.f64, this.hist);
  }

  /** Add `by` to count `c` of window `w`; false when the window is older than the ring holds. */
  count(w: number, c: number, by = 1): boolean {
    const s = this.slot(w);
    if (s < 0) return false;
    this.f64[s * F64_PER_WINDOW + c] += by;
    this.changed.add(w);
    return true;
  }

  /** Observe measure `m` (index into MEASURES) = `v` (≥ 0) in window `w`; false when the window is too old. */
  observe(w: number, m: number, v: number): boolean {
    const s = this.slot(w);
    if (s < 0) return false;
    const o = s * F64_PER_WINDOW + NC + 2 * m;
    this.f64[o]++;
    this.f64[o + 1] += v;
    this.hist[(s * NM + m) * HIST_BUCKETS + bucketOf(v)]++;
    this.changed.add(w);
    return true;
  }

  /** Visit every held window, oldest first: its index and a reader of its numbers. */
  forEach(fn: (w: number, r: WindowReader) => void): void {
    const order: number[] = [];
    for (let s = 0; s < this.kept; s++) if (!Number.isNaN(this.index[s]!)) order.push(s);
    order.sort((a, b) => this.index[a]! - this.index[b]!);
    for (const s of order) {
      this.reader.slot = s;
      fn(this.index[s]!, this.reader);
    }
  }

  /** The windows changed and evicted since the last call. */
  takeChanges(): { changed: number[]; evicted: number[] } {
    const out = { changed: [...this.changed], evicted: this.evicted };
    this.changed = new Set();
    this.evicted = [];
    return out;
  }

  /** Window `w` as stored; undefined when the ring no longer holds it. */
  stored(w: number): StoredWindow | undefined {
    const s = ((w % this.kept) + this.kept) % this.kept;
    if (this.index[s] !== w) return undefined;
    const hist: number[] = [];
    const o = s * NM * HIST_BUCKETS;
    for (let k = 0; k < NM * HIST_BUCKETS; k++) if (this.hist[o + k]) hist.push(k, this.hist[o + k]!);
    return { f64: Array.from(this.f64.subarray(s * F64_PER_WINDOW, (s + 1) * F64_PER_WINDOW)), hist };
  }

  /** Put back a stored window (at start-up); false when it is malformed or older than its slot holds. */
  restore(w: number, v: StoredWindow): boolean {
    if (!Array.isArray(v?.f64) || v.f64.length !== F64_PER_WINDOW || !Array.isArray(v.hist) || v.hist.length % 2) return false;
    const s = this.slot(w);
    if (s < 0) return false;
    this.f64.set(v.f64, s * F64_PER_WINDOW);
    const o = s * NM * HIST_BUCKETS;
    for (let i = 0; i < v.hist.length; i += 2) {
      const k = v.hist[i]!;
      if (Number.isInteger(k) && k >= 0 && k < NM * HIST_BUCKETS) this.hist[o + k] = v.hist[i + 1]!;
    }
    return true;
  }

  /** The slot of window `w`, claiming (and clearing) it when `w` is newer than what it holds; -1 when older. */
  private slot(w: number): number {
    const s = ((w % this.kept) + this.kept) % this.kept;
    const held = this.index[s]!;
    if (held === w) return s;
    if (!Number.isNaN(held) && held > w) return -1;
    if (!Number.isNaN(held)) {
      this.evicted.push(held);
      this.changed.delete(held);
    }
    this.index[s] = w;
    this.f64.fill(0, s * F64_PER_WINDOW, (s + 1) * F64_PER_WINDOW);
    this.hist.fill(0, s * NM * HIST_BUCKETS, (s + 1) * NM * HIST_BUCKETS);
    return s;
  }
}

/** Reads one window of an ExperimentWindows (valid only inside its forEach callback). */
export class WindowReader {
  slot = 0;
  constructor(private readonly f64: Float64Array, private readonly hist: Uint32Array) {}

  count(c: number): number {
    return this.f64[this.slot * F64_PER_WINDOW + c]!;
  }

  /** Observations of measure `m` in the window. */
  n(m: number): number {
    return this.f64[this.slot * F64_PER_WINDOW + NC + 2 * m]!;
  }

  sum(m: number): number {
    return this.f64[this.slot * F64_PER_WINDOW + NC + 2 * m + 1]!;
  }

  /** Add this window's histogram of measure `m` into `into` (HIST_BUCKETS long). */
  addHistogram(m: number, into: Float64Array): void {
    const o = (this.slot * NM + m) * HIST_BUCKETS;
    for (let k = 0; k < HIST_BUCKETS; k++) into[k]! += this.hist[o + k]!;
  }
}

/** The q-quantile (0..1) of a histogram of `n` values, as its bucket's value; NaN when empty. */
export function histogramQuantile(h: Float64Array, n: number, q: number): number {
  if (n <= 0) return NaN;
  const rank = q * n;
  let seen = 0;
  for (let k = 0; k < HIST_BUCKETS; k++) {
    seen += h[k]!;
    if (seen >= rank && seen > 0) return bucketValue(k);
  }
  return bucketValue(HIST_BUCKETS - 1);
}
