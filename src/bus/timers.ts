// Timers port: durable delayed work by kind and key (offer expiry). In-memory adapter; BullMQ in bullmq-timers.ts.

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
  schedule(kind: string, key: string, delayMs: number, payload: TimerPayload): Promise<void>;
  cancel(kind: string, key: string): Promise<void>;
  close(): Promise<void>;
}

export class MemoryTimers implements Timers {
  private readonly handlers = new Map<string, TimerHandler>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  /** Called when a handler throws or rejects (it would otherwise be lost). */
  onError: (err: unknown, kind: string) => void = () => {};

  handle(kind: string, handler: TimerHandler): void {
    this.handlers.set(kind, handler);
  }

  async schedule(kind: string, key: string, delayMs: number, payload: TimerPayload): Promise<void> {
    const k = kind + '\u0000' + key;
    const old = this.pending.get(k);
    if (old) clearTimeout(old);
    const t = setTimeout(() => {
      this.pending.delete(k);
      const h = this.handlers.get(kind);
      if (!h) return;
      try {
        Promise.resolve(h(payload)).catch((err) => this.onError(err, kind));
      } catch (err) {
        this.onError(err, kind);
      }
    }, Math.max(0, delayMs));
    this.pending.set(k, t);
  }

  async cancel(kind: string, key: string): Promise<void> {
    const k = kind + '\u0000' + key;
    const t = this.pending.get(k);
    if (t) {
      clearTimeout(t);
      this.pending.delete(k);
    }
  }

  async close(): Promise<void> {
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
  }
}
