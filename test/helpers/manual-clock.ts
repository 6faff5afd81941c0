// A clock moved by hand: time-driven logic (offer expiry, watchdogs, timers) tested without waiting.
import type { Clock, ClockTimer } from '../../src/util/clock.js';

export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly due = new Map<number, { at: number; fn: () => void }>();

  /** @param start the initial time, ms since the epoch */
  constructor(start = Date.now()) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    const id = ++this.seq;
    this.due.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(t: ClockTimer): void {
    this.due.delete(t as number);
  }

  /** Timers armed and not yet fired. */
  get pending(): number {
    return this.due.size;
  }

  /** Move time forward by `ms`, firing due timers in time order, each at its own time. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: number | undefined;
      for (const [id, d] of this.due) if (d.at <= end && (next === undefined || d.at < this.due.get(next)!.at)) next = id;
      if (next === undefined) break;
      const d = this.due.get(next)!;
      this.due.delete(next);
      this.t = d.at;
      d.fn();
    }
    this.t = end;
  }
}
