// Timers port: delayed work keyed by name (offer expiry). In-memory adapter; BullMQ one for cluster mode.

/**
 * Guarantees: the handler runs at most once per scheduled key, no earlier than `delayMs` after
 * `schedule`; scheduling an existing key replaces it; `cancel` of an unknown key is a no-op.
 */
export interface Timers {
  schedule(key: string, delayMs: number, fire: () => void): void;
  cancel(key: string): void;
  close(): void;
}

export class MemoryTimers implements Timers {
  private readonly pending = new Map<string, NodeJS.Timeout>();

  schedule(key: string, delayMs: number, fire: () => void): void {
    this.cancel(key);
    const t = setTimeout(() => {
      this.pending.delete(key);
      fire();
    }, delayMs);
    this.pending.set(key, t);
  }

  cancel(key: string): void {
    const t = this.pending.get(key);
    if (t) {
      clearTimeout(t);
      this.pending.delete(key);
    }
  }

  close(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
  }
}
