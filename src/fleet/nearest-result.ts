// Preallocated, reusable k-nearest result buffer so hot dispatch queries allocate nothing per candidate.

/** Slots and distances (metres) of the nearest drivers, nearest first; valid for indexes [0, count). */
export class NearestResult {
  readonly slots: Int32Array;
  readonly metres: Float64Array;
  /**
   * Working keys of the search, squared chords between unit vectors (4·sin²(d / 2R), ordered like the
   * distance); kept sorted so the k-th best is a single read. metres is derived from them at the end.
   */
  readonly keys: Float64Array;
  count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`NearestResult capacity must be a positive integer, got ${capacity}`);
    this.slots = new Int32Array(capacity);
    this.metres = new Float64Array(capacity);
    this.keys = new Float64Array(capacity);
  }

  /**
   * Insert a candidate by squared-chord key, keeping at most k entries sorted (equal keys keep arrival
   * order). Returns the limit a later candidate must beat: the k-th key once k are held, else `maxKey`.
   */
  insertKey(slot: number, key: number, k: number, maxKey: number): number {
    let i = this.count < k ? this.count++ : k - 1;
    const s = this.slots;
    const m = this.keys;
    while (i > 0 && m[i - 1]! > key) {
      s[i] = s[i - 1]!;
      m[i] = m[i - 1]!;
      i--;
    }
    s[i] = slot;
    m[i] = key;
    return this.count === k ? m[k - 1]! : maxKey;
  }
}
