// Fixes a driver made while offline: bounded, oldest dropped first, taken in batches for `locs`.
import type { LocsPoint } from '../protocol/messages.js';

/** A bounded FIFO of `locs` points. */
export class FixBuffer {
  private items: LocsPoint[] = [];
  /** Points dropped because the buffer was full (oldest first), since the client was made. */
  dropped = 0;

  /** @param capacity most points kept (at least 1) */
  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('maxBufferedFixes must be at least 1');
  }

  /** Points waiting. */
  get size(): number {
    return this.items.length;
  }

  /** Add the newest point; the oldest goes when full. */
  push(p: LocsPoint): void {
    this.items.push(p);
    this.trim();
  }

  /** Put points back in front (they are older than those waiting): a batch the server did not take. */
  unshift(pts: LocsPoint[]): void {
    if (pts.length === 0) return;
    this.items = pts.concat(this.items);
    this.trim();
  }

  /** Remove and return up to `n` of the oldest points. */
  take(n: number): LocsPoint[] {
    return this.items.splice(0, n);
  }

  private trim(): void {
    const over = this.items.length - this.capacity;
    if (over > 0) {
      this.items.splice(0, over);
      this.dropped += over;
    }
  }
}
