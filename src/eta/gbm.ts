// Gradient-boosted oblivious regression trees (squared loss, histogram splits): small, deterministic, branch-light to evaluate.

export interface GbmParams {
  /** Upper bound on the number of trees (early stopping on held-out rows may use fewer). */
  maxTrees: number;
  learningRate: number;
  /** Levels per tree; a tree has 2^depth leaves. */
  depth: number;
  /** Each side of a split must hold at least this many training rows in total. */
  minLeaf: number;
  /** L2 shrinkage of leaf values, in rows: a leaf with few rows stays near 0. */
  lambda: number;
  /** Histogram bins per feature (<= 32). */
  bins: number;
}

export const DEFAULT_GBM: GbmParams = { maxTrees: 400, learningRate: 0.1, depth: 5, minLeaf: 20, lambda: 5, bins: 32 };

/**
 * A trained ensemble of oblivious trees: every level of a tree splits all its nodes on one condition
 * "feature f is in a bin above k", so a tree is `depth` table reads forming the leaf index. A prediction
 * first finds each feature's bin by a forward scan over the edges the trees use (one mispredicted branch
 * per feature), then per tree and level reads the bin and turns "bin > k" into a bit with integer
 * arithmetic: no pointer chasing and no data-dependent branch per tree (ordinary trees measured 5-12 µs
 * for 300 trees in V8; a binary search plus a per-condition byte table was ~1.6x slower than this).
 */
export class GbmModel {
  /** Per feature: its bin for the current row; the last slot is the always-false pseudo-feature (-1). */
  private readonly bins: Int32Array;
  /** Per feature: how many of its edges any tree refers to (the scan stops there). */
  private readonly scan: Int32Array;
  private readonly offsets: Int32Array;
  /** Per tree and level: feature << 5 | k (k < 32), for the branch-free "bin > k". */
  private readonly word: Int32Array;

  constructor(
    readonly base: number,
    readonly depth: number,
    /** Bin edges of every feature, concatenated; feature f's are edges[offsets[f] .. offsets[f+1]). */
    readonly edgeCounts: Int32Array,
    readonly edges: Float64Array,
    /** Per tree and level: the condition index f * SLOTS + k, or the always-false slot. */
    readonly split: Int32Array,
    /** Per tree: 2^depth leaf values, learning rate included. */
    readonly value: Float64Array,
  ) {
    const m = edgeCounts.length;
    this.offsets = new Int32Array(m + 1);
    for (let f = 0; f < m; f++) this.offsets[f + 1] = this.offsets[f]! + edgeCounts[f]!;
    this.bins = new Int32Array(m + 1);
    this.bins[m] = -1;
    this.scan = new Int32Array(m);
    this.word = new Int32Array(split.length);
    for (let i = 0; i < split.length; i++) {
      const c = split[i]!;
      const f = Math.floor(c / SLOTS), k = c % SLOTS;
      if (f >= m) {
        this.word[i] = m << 5;
      } else {
        this.word[i] = (f << 5) | k;
        this.scan[f] = Math.max(this.scan[f]!, k + 1);
      }
    }
  }

  get trees(): number {
    return this.depth ? this.split.length / this.depth : 0;
  }

  /** Sum of the trees for feature vector `x` (only its first edgeCounts.length columns are read); no allocation. */
  predict(x: Float64Array): number {
    const { bins, edges, offsets, scan } = this;
    const m = scan.length;
    for (let f = 0; f < m; f++) {
      // bin = number of edges <= x[f] (counted up to the last edge referenced); condition k holds when bin > k.
      const e0 = offsets[f]!, cnt = scan[f]!, v = x[f]!;
      let k = 0;
      while (k < cnt && v >= edges[e0 + k]!) k++;
      bins[f] = k;
    }
    return this.base + sumTrees(bins, this.word, this.value, this.depth, this.trees);
  }

  toJSON(): GbmJson {
    return { base: this.base, depth: this.depth, edgeCounts: [...this.edgeCounts], edges: [...this.edges], split: [...this.split], value: [...this.value] };
  }

  static fromJSON(o: GbmJson): GbmModel {
    return new GbmModel(o.base, o.depth, Int32Array.from(o.edgeCounts), Float64Array.from(o.edges), Int32Array.from(o.split), Float64Array.from(o.value));
  }
}

export interface GbmJson { base: number; depth: number; edgeCounts: number[]; edges: number[]; split: number[]; value: number[] }

/** Bit of "bin of feature w >> 5 is above w & 31": the sign of k - bin, no branch. */
const bit = (b: Int32Array, w: number): number => ((w & 31) - b[w >> 5]!) >>> 31;

/**
 * Sum of the leaf values the bins `b` select. Unrolled per depth: V8 runs the unrolled bodies ~3x faster
 * than a loop over levels (measured: 1.6 vs 4.5 µs for 585 trees of depth 5).
 */
function sumTrees(b: Int32Array, w: Int32Array, v: Float64Array, depth: number, trees: number): number {
  let sum = 0;
  let o = 0;
  switch (depth) {
    case 1:
      for (let t = 0; t < trees; t++, o++) sum += v[(t << 1) | bit(b, w[o]!)]!;
      return sum;
    case 2:
      for (let t = 0; t < trees; t++, o += 2) sum += v[(t << 2) | (bit(b, w[o]!) << 1) | bit(b, w[o + 1]!)]!;
      return sum;
    case 4:
      for (let t = 0; t < trees; t++, o += 4) {
        sum += v[(t << 4) | (bit(b, w[o]!) << 3) | (bit(b, w[o + 1]!) << 2) | (bit(b, w[o + 2]!) << 1) | bit(b, w[o + 3]!)]!;
      }
      return sum;
    case 5:
      for (let t = 0; t < trees; t++, o += 5) {
        sum += v[(t << 5) | (bit(b, w[o]!) << 4) | (bit(b, w[o + 1]!) << 3) | (bit(b, w[o + 2]!) << 2) | (bit(b, w[o + 3]!) << 1) | bit(b, w[o + 4]!)]!;
      }
      return sum;
    case 6:
      for (let t = 0; t < trees; t++, o += 6) {
        sum += v[(t << 6) | (bit(b, w[o]!) << 5) | (bit(b, w[o + 1]!) << 4) | (bit(b, w[o + 2]!) << 3) | (bit(b, w[o + 3]!) << 2) | (bit(b, w[o + 4]!) << 1) | bit(b, w[o + 5]!)]!;
      }
      return sum;
    default:
      for (let t = 0; t < trees; t++) {
        let idx = 0;
        for (let l = 0; l < depth; l++, o++) idx = (idx << 1) | bit(b, w[o]!);
        sum += v[(t << depth) | idx]!;
      }
      return sum;
  }
}

/** Condition slots per feature: bins are capped at this many. */
const SLOTS = 32;

export interface GbmFit {
  model: GbmModel;
  /** Mean squared error on the held-out rows after each tree (empty without held-out rows). */
  validMse: number[];
}

/** Bin edges of one column: up to bins-1 distinct quantiles; bin(x) = number of edges <= x. */
function edgesOf(col: Float64Array, bins: number): Float64Array {
  const s = Float64Array.from(col).sort();
  const out: number[] = [];
  for (let k = 1; k < bins; k++) {
    const v = s[Math.min(s.length - 1, Math.floor((k * s.length) / bins))]!;
    if (v > s[0]! && (out.length === 0 || v > out[out.length - 1]!)) out.push(v);
  }
  return Float64Array.from(out);
}

function binOf(edges: Float64Array, x: number): number {
  let lo = 0, hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Fit trees to `y` from the row-major matrix `X` (n rows of m features). Rows with `heldOut[i] = 1` are
 * not trained on; the squared error on them is recorded after every tree, for choosing the tree count.
 */
export function trainGbm(X: Float64Array, n: number, m: number, y: Float64Array, p: GbmParams, heldOut?: Uint8Array): GbmFit {
  const train: number[] = [];
  const valid: number[] = [];
  for (let i = 0; i < n; i++) (heldOut?.[i] ? valid : train).push(i);
  const nt = train.length;
  if (nt === 0) throw new Error('no training rows');
  const depth = p.depth;
  const nLeaves = 1 << depth;
  const edges: Float64Array[] = [];
  const codes = new Uint8Array(m * n); // column-major bin codes of every row
  for (let f = 0; f < m; f++) {
    const col = new Float64Array(nt);
    for (let r = 0; r < nt; r++) col[r] = X[train[r]! * m + f]!;
    const e = edgesOf(col, Math.min(SLOTS, p.bins));
    edges.push(e);
    for (let i = 0; i < n; i++) codes[f * n + i] = binOf(e, X[i * m + f]!);
  }
  let base = 0;
  for (const i of train) base += y[i]!;
  base /= nt;
  const F = new Float64Array(n).fill(base);
  const g = new Float64Array(n);
  const leaf = new Int32Array(n);
  const nb = Math.min(SLOTS, p.bins) + 1;
  // Histograms (count, gradient sum) per feature x leaf x bin of this level (h*) and of the previous (p*):
  // a level only scans the rows of odd leaves; an even leaf is its parent minus its odd sibling.
  const HB = nLeaves * nb;
  let hc = new Float64Array(m * HB), hs = new Float64Array(m * HB);
  let pc = new Float64Array(m * HB), ps = new Float64Array(m * HB);
  const odd = new Int32Array(nt);
  const lc = new Float64Array(nLeaves);
  const ls = new Float64Array(nLeaves);
  const feats: number[] = [];
  const thrs: number[] = [];
  const values: number[] = [];
  const validMse: number[] = [];

  for (let t = 0; t < p.maxTrees; t++) {
    for (const i of train) {
      g[i] = y[i]! - F[i]!;
      leaf[i] = 0;
    }
    for (let l = 0; l < depth; l++) {
      const leaves = 1 << l;
      lc.fill(0, 0, leaves);
      ls.fill(0, 0, leaves);
      for (const i of train) {
        lc[leaf[i]!]!++;
        ls[leaf[i]!]! += g[i]!;
      }
      let parent = 0;
      for (let q = 0; q < leaves; q++) parent += (ls[q]! * ls[q]!) / (lc[q]! + p.lambda);
      let bestGain = 1e-12, bestF = -1, bestK = -1;
      let nOdd = 0;
      if (l > 0) for (const i of train) if (leaf[i]! & 1) odd[nOdd++] = i;
      for (let f = 0; f < m; f++) {
        const ne = edges[f]!.length;
        if (ne === 0) continue;
        const h = f * HB;
        hc.fill(0, h, h + leaves * nb);
        hs.fill(0, h, h + leaves * nb);
        const off = f * n;
        if (l === 0) {
          for (const i of train) {
            const b = h + codes[off + i]!;
            hc[b]!++;
            hs[b]! += g[i]!;
          }
        } else {
          for (let j = 0; j < nOdd; j++) {
            const i = odd[j]!;
            const b = h + leaf[i]! * nb + codes[off + i]!;
            hc[b]!++;
            hs[b]! += g[i]!;
          }
          for (let q = 0; q < leaves >> 1; q++) {
            const even = h + 2 * q * nb, sib = even + nb, par = h + q * nb;
            for (let b = 0; b < nb; b++) {
              hc[even + b] = pc[par + b]! - hc[sib + b]!;
              hs[even + b] = ps[par + b]! - hs[sib + b]!;
            }
          }
        }
        const cnt = hc.subarray(h, h + HB), sum = hs.subarray(h, h + HB);
        // Running left sums per leaf while sweeping the threshold k.
        const cl = new Float64Array(leaves), sl = new Float64Array(leaves);
        let left = 0;
        for (let k = 0; k < ne; k++) {
          let gain = -parent;
          for (let q = 0; q < leaves; q++) {
            cl[q]! += cnt[q * nb + k]!;
            sl[q]! += sum[q * nb + k]!;
            const cr = lc[q]! - cl[q]!, sr = ls[q]! - sl[q]!;
            gain += (sl[q]! * sl[q]!) / (cl[q]! + p.lambda) + (sr * sr) / (cr + p.lambda);
          }
          left = 0;
          for (let q = 0; q < leaves; q++) left += cl[q]!;
          if (left < p.minLeaf || nt - left < p.minLeaf) continue;
          if (gain > bestGain) {
            bestGain = gain; bestF = f; bestK = k;
          }
        }
      }
      [hc, pc] = [pc, hc];
      [hs, ps] = [ps, hs];
      if (bestF < 0) {
        // Nothing worth splitting: a level that sends every row left.
        feats.push(m * SLOTS); thrs.push(Infinity);
        for (const i of train) leaf[i] = leaf[i]! << 1;
        continue;
      }
      feats.push(bestF * SLOTS + bestK); thrs.push(edges[bestF]![bestK]!);
      const off = bestF * n;
      for (const i of train) leaf[i] = (leaf[i]! << 1) | (codes[off + i]! > bestK ? 1 : 0);
    }
    lc.fill(0);
    ls.fill(0);
    for (const i of train) {
      lc[leaf[i]!]!++;
      ls[leaf[i]!]! += g[i]!;
    }
    const vOff = values.length;
    for (let q = 0; q < nLeaves; q++) values.push((p.learningRate * ls[q]!) / (lc[q]! + p.lambda));
    for (const i of train) F[i]! += values[vOff + leaf[i]!]!;
    if (valid.length) {
      let se = 0;
      const fOff = t * depth;
      for (const i of valid) {
        let idx = 0;
        for (let l = 0; l < depth; l++) {
          const c = feats[fOff + l]!;
          idx = (idx << 1) | (c < m * SLOTS && X[i * m + Math.floor(c / SLOTS)]! >= thrs[fOff + l]! ? 1 : 0);
        }
        F[i]! += values[vOff + idx]!;
        const e = y[i]! - F[i]!;
        se += e * e;
      }
      validMse.push(se / valid.length);
    }
  }
  const edgeCounts = Int32Array.from(edges.map((e) => e.length));
  const flat = new Float64Array(edges.reduce((a, e) => a + e.length, 0));
  edges.reduce((o, e) => (flat.set(e, o), o + e.length), 0);
  return { model: new GbmModel(base, depth, edgeCounts, flat, Int32Array.from(feats), Float64Array.from(values)), validMse };
}

/** Train with 1 row in 5 held out to pick the tree count, then refit on every row with that count. */
export function trainGbmEarlyStopped(X: Float64Array, n: number, m: number, y: Float64Array, p: GbmParams): GbmModel {
  const held = new Uint8Array(n);
  // Deterministic split: a multiplicative hash of the row index.
  for (let i = 0; i < n; i++) held[i] = Math.imul(i + 1, 2654435761) >>> 0 < 858993459 ? 1 : 0;
  const probe = trainGbm(X, n, m, y, p, held);
  let best = 0;
  for (let t = 1; t < probe.validMse.length; t++) if (probe.validMse[t]! < probe.validMse[best]!) best = t;
  const trees = probe.validMse.length ? best + 1 : p.maxTrees;
  return trainGbm(X, n, m, y, { ...p, maxTrees: trees }).model;
}
