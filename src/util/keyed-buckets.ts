// Token buckets keyed by a name (a rider id, a client address), in a map of bounded size.

/**
 * One token bucket per key: `ratePerS` tokens a second, at most `burst` held; a new key starts full.
 * Guarantees:
 * - `take` spends one token and returns 0, or spends nothing and returns how long until one is due, ms.
 * - At most `maxKeys` keys are held. A key whose bucket has refilled is forgotten (it would start full
 *   anyway); past `maxKeys` the least recently used key is forgotten too, which can only give that key
 *   a fresh (full) bucket sooner — never refuse anyone wrongly.
 * - `rate` 0 disables the limit: `take` always answers 0 and nothing is held.
 */
export class KeyedBuckets {
  /** Tokens (float) and the time they were counted, ms; insertion order is recency (least recent first). */
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private lastPrune = 0;

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Keys held now (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  /** Spend a token of `key` at `now` (ms): 0 when allowed, else the wait until the next token, ms (≥ 1). */
  take(key: string, now: number): number {
    if (this.ratePerS <= 0) return 0;
    const perMs = this.ratePerS / 1000;
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key); // re-inserted below: most recently used last
      b.tokens = Math.min(this.burst, b.tokens + (now - b.at) * perMs);
      b.at = now;
    } else b = { tokens: this.burst, at: now };
    this.buckets.set(key, b);
    this.prune(now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / perMs));
  }

  /** Forget refilled buckets (at most once per refill period), then the least recent beyond `maxKeys`. */
  private prune(now: number): void {
    const refillMs = (this.burst / this.ratePerS) * 1000;
    if (now - this.lastPrune >= Math.min(refillMs, 60_000)) {
      this.lastPrune = now;
      for (const [k, b] of this.buckets) {
        if (now - b.at < refillMs) break; // recency order: everything after is more recent
        this.buckets.delete(k);
      }
    }
    while (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
  }
}
