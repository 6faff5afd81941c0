// Welch's t confidence interval of a difference of two means (unequal variances), from the two samples.
import jStat from 'jstat';

/** A difference of means with its confidence interval. */
export interface WelchInterval {
  /** mean(b) − mean(a). */
  diff: number;
  lo: number;
  hi: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
}

function meanVar(x: readonly number[]): [number, number] {
  let m = 0;
  for (const v of x) m += v;
  m /= x.length;
  let ss = 0;
  for (const v of x) ss += (v - m) * (v - m);
  return [m, ss / (x.length - 1)];
}

/**
 * The `level` (e.g. 0.95) two-sided Welch interval of mean(b) − mean(a). Null when a sample has fewer
 * than 2 values. When both samples have no spread the interval is the difference itself (df = Infinity).
 */
export function welchInterval(a: readonly number[], b: readonly number[], level = 0.95): WelchInterval | null {
  if (a.length < 2 || b.length < 2) return null;
  const [ma, va] = meanVar(a);
  const [mb, vb] = meanVar(b);
  const sa = va / a.length, sb = vb / b.length;
  const se = Math.sqrt(sa + sb);
  const diff = mb - ma;
  if (se === 0) return { diff, lo: diff, hi: diff, df: Infinity };
  const df = (sa + sb) ** 2 / ((sa * sa) / (a.length - 1) + (sb * sb) / (b.length - 1));
  const t = jStat.studentt.inv(1 - (1 - level) / 2, df);
  return { diff, lo: diff - t * se, hi: diff + t * se, df };
}
