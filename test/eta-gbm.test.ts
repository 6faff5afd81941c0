// Oblivious boosted trees: fit a known function, deterministic, early stopping, JSON round trip.
import t from 'tap';
import { DEFAULT_GBM, GbmModel, trainGbm, trainGbmEarlyStopped } from '../src/eta/gbm.js';
import { mulberry32 } from '../src/eta/eta-cv.js';

function data(n: number, seed: number): { X: Float64Array; y: Float64Array } {
  const rnd = mulberry32(seed);
  const X = new Float64Array(n * 3);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = rnd() * 10, b = rnd() * 10, c = rnd();
    X.set([a, b, c], i * 3);
    // A step in a, a slope in b, and c is noise the trees must ignore.
    y[i] = (a > 5 ? 2 : 0) + 0.3 * b + (rnd() - 0.5) * 0.2;
  }
  return { X, y };
}

t.test('fits a step plus a slope and ignores noise', async (t) => {
  const { X, y } = data(2000, 1);
  const m = trainGbm(X, 2000, 3, y, { ...DEFAULT_GBM, maxTrees: 200, depth: 3 }).model;
  t.ok(Math.abs(m.predict(Float64Array.of(8, 5, 0.5)) - 3.5) < 0.15);
  t.ok(Math.abs(m.predict(Float64Array.of(2, 5, 0.5)) - 1.5) < 0.15);
  t.ok(Math.abs(m.predict(Float64Array.of(8, 5, 0.1)) - m.predict(Float64Array.of(8, 5, 0.9))) < 0.1, 'noise feature barely used');
});

t.test('deterministic, early stopping picks fewer trees, JSON round trip', async (t) => {
  const { X, y } = data(600, 2);
  const p = { ...DEFAULT_GBM, maxTrees: 400, learningRate: 0.3, depth: 4 };
  const a = trainGbmEarlyStopped(X, 600, 3, y, p);
  const b = trainGbmEarlyStopped(X, 600, 3, y, p);
  t.same(a.toJSON(), b.toJSON(), 'same data, same model');
  t.ok(a.trees < 400, `stopped early at ${a.trees} trees`);
  const c = GbmModel.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
  const x = Float64Array.of(3.3, 7.7, 0.2);
  t.equal(c.predict(x), a.predict(x));
});

/** Reference evaluation: walk every tree level by level, comparing x with the split's edge. */
function naive(m: GbmModel, x: Float64Array): number {
  const offsets = [0];
  for (const c of m.edgeCounts) offsets.push(offsets[offsets.length - 1]! + c);
  let sum = m.base;
  for (let t = 0; t < m.trees; t++) {
    let idx = 0;
    for (let l = 0; l < m.depth; l++) {
      const c = m.split[t * m.depth + l]!;
      const f = Math.floor(c / 32), k = c % 32;
      idx = (idx << 1) | (f < m.edgeCounts.length && x[f]! >= m.edges[offsets[f]! + k]! ? 1 : 0);
    }
    sum += m.value[(t << m.depth) | idx]!;
  }
  return sum;
}

t.test('branch-free prediction equals walking the trees, every depth, edges and NaN included', async (t) => {
  const { X, y } = data(1500, 3);
  const rnd = mulberry32(9);
  for (const depth of [1, 2, 3, 4, 5, 6, 7]) {
    const m = trainGbm(X, 1500, 3, y, { ...DEFAULT_GBM, maxTrees: 40, depth }).model;
    let worst = 0;
    for (let i = 0; i < 300; i++) {
      const x = Float64Array.of(rnd() * 12 - 1, rnd() * 12 - 1, rnd());
      if (i % 50 === 0) x[0] = NaN;
      if (i % 7 === 0) x[1] = m.edges[m.edgeCounts[0]! + (i % m.edgeCounts[1]!)]!; // exactly on an edge
      worst = Math.max(worst, Math.abs(m.predict(x) - naive(m, x)));
    }
    t.ok(worst < 1e-12, `depth ${depth}: max difference ${worst}`);
  }
});
