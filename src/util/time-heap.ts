// Binary min-heap of items by (time, insertion order): the event queue of virtual-time simulations and the virtual clock's timers.

/**
 * Items ordered by `at` (ms), ties by insertion order, so a run with the same inputs pops the same
 * sequence (determinism of the simulator rests on it). Times and sequence numbers sit in typed arrays
 * beside the items; push and pop are O(log n) and allocate only when the arrays grow.
 */
export class TimeHeap<T> {
  private at = new Float64Array(64);
  private seq = new Float64Array(64);
  private items: Array<T | undefined> = [];
  private n = 0;
  private nextSeq = 0;

  get size(): number {
    return this.n;
  }

  /** Time of the earliest item, ms; Infinity when empty. */
  peekTime(): number {
    return this.n > 0 ? this.at[0]! : Infinity;
  }

  /** The earliest item, left in place (undefined when empty). */
  peek(): T | undefined {
    return this.n > 0 ? this.items[0] : undefined;
  }

  push(at: number, item: T): void {
    if (this.n === this.at.length) this.grow();
    let i = this.n++;
    const s = this.nextSeq++;
    // Sift up: move parents down until the slot for (at, s) is found.
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(at, s, p)) break;
      this.move(p, i);
      i = p;
    }
    this.at[i] = at;
    this.seq[i] = s;
    this.items[i] = item;
  }

  /** Remove and return the earliest item (undefined when empty). */
  pop(): T | undefined {
    if (this.n === 0) return undefined;
    const top = this.items[0];
    const last = --this.n;
    const at = this.at[last]!, s = this.seq[last]!, item = this.items[last];
    this.items[last] = undefined;
    if (last > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= last) break;
        const r = l + 1;
        const c = r < last && this.lessIdx(r, l) ? r : l;
        if (!this.lessThan(c, at, s)) break;
        this.move(c, i);
        i = c;
      }
      this.at[i] = at;
      this.seq[i] = s;
      this.items[i] = item;
    }
    return top;
  }

  /** (at, s) sorts before the item at index j. */
  private less(at: number, s: number, j: number): boolean {
    const aj = this.at[j]!;
    return at < aj || (at === aj && s < this.seq[j]!);
  }

  /** The item at index j sorts before (at, s). */
  private lessThan(j: number, at: number, s: number): boolean {
    const aj = this.at[j]!;
    return aj < at || (aj === at && this.seq[j]! < s);
  }

  private lessIdx(i: number, j: number): boolean {
    return this.less(this.at[i]!, this.seq[i]!, j);
  }

  private move(from: number, to: number): void {
    this.at[to] = this.at[from]!;
    this.seq[to] = this.seq[from]!;
    this.items[to] = this.items[from];
  }

  private grow(): void {
    const at = new Float64Array(this.at.length * 2);
    at.set(this.at);
    this.at = at;
    const seq = new Float64Array(this.seq.length * 2);
    seq.set(this.seq);
    this.seq = seq;
  }
}
