// Accuracy metrics of predicted against real trip durations (seconds): MAE, median absolute error, MAPE, RMSLE.

export interface EtaMetrics {
  n: number;
  /** Mean absolute error, seconds. */
  mae_s: number;
  /** Median absolute error, seconds. */
  medae_s: number;
  /** Mean absolute percentage error, as a fraction (0.25 = 25 %). */
  mape: number;
  /** Root mean squared error of log(1 + seconds): the competition metric, scale-free. */
  rmsle: number;
}

export function etaMetrics(predicted: ArrayLike<number>, actual: ArrayLike<number>): EtaMetrics {
  const n = actual.length;
  if (predicted.length !== n) throw new Error('predicted and actual differ in length');
  if (n === 0) return { n: 0, mae_s: NaN, medae_s: NaN, mape: NaN, rmsle: NaN };
  const abs = new Float64Array(n);
  let sumAbs = 0;
  let sumPct = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.max(0, predicted[i]!);
    const a = actual[i]!;
    const e = Math.abs(p - a);
    abs[i] = e;
    sumAbs += e;
    sumPct += a > 0 ? e / a : 0;
    const l = Math.log1p(p) - Math.log1p(a);
    sumSq += l * l;
  }
  abs.sort();
  const medae = n % 2 ? abs[(n - 1) / 2]! : (abs[n / 2 - 1]! + abs[n / 2]!) / 2;
  return { n, mae_s: sumAbs / n, medae_s: medae, mape: sumPct / n, rmsle: Math.sqrt(sumSq / n) };
}
