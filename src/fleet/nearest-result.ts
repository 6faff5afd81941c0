// Preallocated, reusable k-nearest result buffer so hot dispatch queries allocate nothing per candidate.

/** Slots and distances (metres) of the nearest drivers, nearest first; valid for indexes [0, count). */
export class NearestResult {
  readonly slots: Int32Array;
  readonly metres: Float64Array;
  count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`NearestResult capacity must be a positive integer, got ${capacity}`);
    this.slots = new Int32Array(capacity);
    this.metres = new Float64Array(capacity);
  }

  /**
   * Insert a candidate keeping at most k entries sorted by distance. Callers pre-check
   * `wouldAccept` so the filter callback only runs for candidates that could make the cut.
   * Equal distances keep arrival order (stable).
   */
  insert(slot: number, metres: number, k: number): void {
    let i = this.count < k ? this.count++ : k - 1;
    const s = this.slots;
    const m = this.metres;
    while (i > 0 && m[i - 1]! > metres) {
      s[i] = s[i - 1]!;
      m[i] = m[i - 1]!;
      i--;
    }
    s[i] = slot;
    m[i] = metres;
  }

  /** Whether a candidate at `metres` would enter a top-k list in its current state. */
  wouldAccept(metres: number, k: number): boolean {
    return this.count < k || metres < this.metres[k - 1]!;
  }
}
