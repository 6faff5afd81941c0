// Timers port: durable delayed work by kind and key (offer expiry). In-memory adapter; BullMQ in bullmq-timers.ts.

import type { StateTable } from '../storage/live-state.js';
import { systemClock } from '../util/clock.js';
import type { Clock, ClockTimer } from '../util/clock.js';

export type TimerPayload = Record<string, string | number>;
export type TimerHandler = (payload: TimerPayload) => void | Promise<void>;

/**
 * Guarantees: a scheduled timer fires its kind's handler at least once, on some node that registered
 * that kind, no earlier than `delayMs` after `schedule`, unless cancelled first; handlers must therefore
 * be idempotent (matching's are: they compare-and-set the job). Scheduling an existing key replaces it.
 * Cancelling an unknown or already fired key is a no-op. With a durable adapter a timer survives the
 * death of the node that scheduled it.
 */
export interface Timers {
  /** Register the handler for a kind (every node registers the same kinds at startup). */
  handle(kind: string, handler: TimerHandler): void;
  /**
   * `city`: the city whose work the timer is; it then fires only on a node serving that city (see
   * `serveCities`). Cancel with the same city. Without one, it fires on any node.
   */
  schedule(kind: string, key: string, delayMs: number, payload: TimerPayload, city?: string): Promise<void>;
  cancel(kind: string, key: string, city?: string): Promise<void>;
  /** The cities whose timers this node runs from now on (TAXIWAY_SERVE_CITIES; grows when the catalog gains a served city). One process: every timer is its own. */
  serveCities(cities: readonly string[]): void;
  close(): Promise<void>;
}

/** A stored timer (durable embedded timers): fires at `fireAt`, ms since the epoch. */
export interface StoredTimer { kind: string; key: string; fireAt: number; payload: TimerPayload }

/**
 * Timers of one process. With a `table` (embedded mode: a live-state table, LMDB in the data dir) every
 * scheduled timer is also stored until its handler has run, and a new instance re-arms what is stored, no
 * earlier than `restoreGraceMs` after start-up (drivers need that long to reconnect before an offer made
 * before the restart expires and dispatch looks for someone else), and only once its kind has a handler.
 * So offer expiry survives a restart. `clock` (default: the system's) is the time source, so tests of
 * time-driven logic can move time by hand.
 */
export class MemoryTimers implements Timers {
  private readonly handlers = new Map<string, TimerHandler>();
  private readonly pending = new Map<string, ClockTimer>();
  /** Timers that came due before their kind had a handler (only after a restart). */
  private readonly unhandled = new Map<string, StoredTimer>();
  /** Called when a handler throws or rejects (it would otherwise be lost). */
  onError: (err: unknown, kind: string) => void = () => {};

  /** Per key, how many times it was armed: a finished run removes the stored record only if it is still the one that ran. */
  private readonly armed = new Map<string, number>();

  constructor(private readonly table: StateTable<StoredTimer> | null = null, restoreGraceMs = 0, private readonly clock: Clock = systemClock) {
    if (!table) return;
    const now = clock.now();
    for (const [, t] of table.entries()) this.arm(t, Math.max(t.fireAt - now, restoreGraceMs));
  }

  handle(kind: string, handler: TimerHandler): void {
    this.handlers.set(kind, handler);
    for (const [k, t] of this.unhandled) {
      if (t.kind !== kind) continue;
      this.unhandled.delete(k);
      this.fire(k, t);
    }
  }

  /** One process runs every timer it schedules, whatever its city. */
  serveCities(): void {}

  async schedule(kind: string, key: string, delayMs: number, payload: TimerPayload): Promise<void> {
    const t: StoredTimer = { kind, key, fireAt: this.clock.now() + Math.max(0, delayMs), payload };
    this.table?.put(kind + '\u0000' + key, t);
    this.arm(t, delayMs);
  }

  async cancel(kind: string, key: string): Promise<void> {
    const k = kind + '\u0000' + key;
    const t = this.pending.get(k);
    if (t) {
      this.clock.clearTimeout(t);
      this.pending.delete(k);
    }
    if (this.unhandled.delete(k) || t) {
      this.armed.delete(k);
      this.table?.remove(k);
    }
  }

  async close(): Promise<void> {
    for (const t of this.pending.values()) this.clock.clearTimeout(t);
    this.pending.clear();
  }

  private arm(t: StoredTimer, delayMs: number): void {
    const k = t.kind + '\u0000' + t.key;
    const old = this.pending.get(k);
    if (old) this.clock.clearTimeout(old);
    this.unhandled.delete(k);
    this.armed.set(k, (this.armed.get(k) ?? 0) + 1);
    this.pending.set(k, this.clock.setTimeout(() => {
      this.pending.delete(k);
      this.fire(k, t);
    }, Math.max(0, delayMs)));
  }

  private fire(k: string, t: StoredTimer): void {
    const h = this.handlers.get(t.kind);
    if (!h) {
      if (this.table) this.unhandled.set(k, t);
      return;
    }
    // Stored until the handler has run: a crash during it fires the timer again after the restart. A key
    // scheduled again meanwhile has a new record (and maybe a run of its own going): that one stays.
    const generation = this.armed.get(k);
    const done = (): void => {
      if (this.armed.get(k) !== generation) return;
      this.armed.delete(k);
      this.table?.remove(k);
    };
    try {
      Promise.resolve(h(t.payload)).catch((err) => this.onError(err, t.kind)).finally(done);
    } catch (err) {
      this.onError(err, t.kind);
      done();
    }
  }
}
