// Durable timers routed by city: one BullMQ queue per city, worked only by the nodes serving that city.
import type { TimerHandler, TimerPayload, Timers } from './timers.js';

/**
 * Composes one durable Timers per queue: the queue of each city (scheduled with a city) and the queue of
 * timers without a city (worked by every node; it also drains timers armed before per-city queues existed).
 * A city's queue gets its handlers, hence a worker, only once this node serves the city: a node never runs
 * the dispatch work of a city served elsewhere, and when the node serving a city dies, the other nodes
 * serving it fire its timers. `open(city)` makes the Timers of one queue (BullmqTimers; undefined: the
 * queue without a city).
 */
export class CityTimers implements Timers {
  private readonly handlers = new Map<string, TimerHandler>();
  private readonly queues = new Map<string, Timers>();
  private readonly working = new Set<string>();
  private readonly shared: Timers;

  constructor(private readonly open: (city?: string) => Timers) {
    this.shared = open();
  }

  private queueOf(city: string | undefined): Timers {
    if (city === undefined) return this.shared;
    let q = this.queues.get(city);
    if (!q) this.queues.set(city, (q = this.open(city)));
    return q;
  }

  handle(kind: string, handler: TimerHandler): void {
    this.handlers.set(kind, handler);
    this.shared.handle(kind, handler);
    for (const city of this.working) this.queues.get(city)!.handle(kind, handler);
  }

  serveCities(cities: readonly string[]): void {
    for (const city of cities) {
      if (this.working.has(city)) continue;
      this.working.add(city);
      const q = this.queueOf(city);
      for (const [kind, h] of this.handlers) q.handle(kind, h);
    }
  }

  schedule(kind: string, key: string, delayMs: number, payload: TimerPayload, city?: string): Promise<void> {
    return this.queueOf(city).schedule(kind, key, delayMs, payload);
  }

  cancel(kind: string, key: string, city?: string): Promise<void> {
    return this.queueOf(city).cancel(kind, key);
  }

  async close(): Promise<void> {
    await Promise.all([this.shared.close(), ...[...this.queues.values()].map((q) => q.close())]);
  }
}
