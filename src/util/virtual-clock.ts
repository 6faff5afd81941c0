// A clock whose time moves only when told: tests move it by hand, the marketplace simulator jumps it from event to event.
import type { Clock, ClockTimer } from './clock.js';
import { TimeHeap } from './time-heap.js';

interface Due { id: number; fn: () => void }

/**
 * Virtual time, ms since the epoch. Timers armed with `setTimeout` fire only from `advance`, `advanceTo`
 * or `fireNext`, each at its own time and in (time, arming order): the same calls give the same run.
 * Cleared timers stay in the heap and are skipped when they come up (clearing is O(1)).
 */
export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly heap = new TimeHeap<Due>();
  /** Ids of armed timers not yet fired nor cleared. */
  private readonly live = new Set<number>();

  /** @param start the initial time, ms since the epoch */
  constructor(start = Date.now()) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    const id = ++this.seq;
    this.live.add(id);
    this.heap.push(this.t + Math.max(0, ms), { id, fn });
    return id;
  }

  clearTimeout(t: ClockTimer): void {
    this.live.delete(t as number);
  }

  /** Timers armed and not yet fired nor cleared. */
  get pending(): number {
    return this.live.size;
  }

  /** Time of the next live timer, ms; Infinity when none. */
  nextDue(): number {
    this.dropCleared();
    return this.heap.peekTime();
  }

  /** Fire the next live timer due at or before `limit` (ms), moving time to it; false when there is none. */
  fireNext(limit = Infinity): boolean {
    this.dropCleared();
    if (this.heap.peekTime() > limit) return false;
    const at = this.heap.peekTime();
    const d = this.heap.pop()!;
    this.live.delete(d.id);
    if (at > this.t) this.t = at;
    d.fn();
    return true;
  }

  /** Move time to `to` (never backwards), firing due timers in order, each at its own time. */
  advanceTo(to: number): void {
    while (this.fireNext(to));
    if (to > this.t) this.t = to;
  }

  /** Move time forward by `ms`, firing due timers in time order, each at its own time. */
  advance(ms: number): void {
    this.advanceTo(this.t + ms);
  }

  /** Pop cleared timers off the top (a cleared timer is only skipped, never searched for). */
  private dropCleared(): void {
    for (let top = this.heap.peek(); top && !this.live.has(top.id); top = this.heap.peek()) this.heap.pop();
  }
}
