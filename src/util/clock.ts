// Time source for time-driven logic (offers, timers): the system clock in production, a hand-moved one in tests.

/** An armed timer, opaque to callers. */
export type ClockTimer = unknown;

export interface Clock {
  /** Current time, ms since the epoch. */
  now(): number;
  /** Run `fn` once, no earlier than `ms` from now. */
  setTimeout(fn: () => void, ms: number): ClockTimer;
  /** Disarm a timer; a fired or unknown one is a no-op. */
  clearTimeout(t: ClockTimer): void;
}

/** `Date.now` and the runtime's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
};
