// ZoneQueue port: the FIFO queue of drivers waiting in an `airport_queue` zone (memory adapter here; Redis in redis-zone-queue.ts).

/** Most members one `list` call returns (bounds one call's work and reply; adapters clamp `limit` to it). */
export const MAX_LIST = 1000;

/** Which queue: one per `airport_queue` zone, named by its city (the Redis hash tag) and zone id. */
export interface QueueRef {
  city: string;
  zone: string;
}

/** A driver's place: `position` 1-based (1 = first offered), 0 when not in the queue; `length` the queue's size. */
export interface QueueSpot {
  position: number;
  length: number;
}

/** What `join` did: `added` false when the driver was already in (its place kept) or the queue was full. */
export interface JoinResult extends QueueSpot {
  added: boolean;
  /** The queue held `maxLength` drivers already: the driver was not added (position 0). */
  full: boolean;
}

/** One queued driver, in queue order. */
export interface QueueMember {
  driver: string;
  /** When it joined, ms since the epoch (the joining node's clock). */
  joined: number;
}

/**
 * Guarantees (every adapter; test/contract/zone-queue-contract.ts): each operation is atomic; order is
 * first joined, first out; `join` of a driver already queued keeps its place (idempotent) and never
 * grows the queue past `maxLength`; `leave` of an absent driver is a no-op; a driver that leaves and
 * joins again goes to the back. The Redis adapter shares one queue between every node and keeps it
 * across node restarts and deaths; the memory adapter lives in one process.
 */
export interface ZoneQueue {
  /** Put `driver` at the back of the queue unless it is there already (its place is kept) or the queue holds `maxLength`. */
  join(q: QueueRef, driver: string, nowMs: number, maxLength: number): Promise<JoinResult>;
  /** Take `driver` out of the queue; `removed` false when it was not in it. */
  leave(q: QueueRef, driver: string): Promise<{ removed: boolean; length: number }>;
  /** `driver`'s place now (position 0 when absent). */
  position(q: QueueRef, driver: string): Promise<QueueSpot>;
  /** Up to `limit` members from position `offset + 1` on, in queue order, and the queue's length. */
  list(q: QueueRef, offset: number, limit: number): Promise<{ members: QueueMember[]; length: number }>;
  /** Drop the whole queue (its zone was deleted or is no longer an `airport_queue`). */
  clear(q: QueueRef): Promise<void>;
}

/**
 * In-memory adapter (embedded mode): per queue a Map, whose insertion order is the queue order. `position`
 * walks the map (O(length): queues are bounded by TAXIWAY_ZONE_QUEUE_MAX).
 */
export class MemoryZoneQueue implements ZoneQueue {
  private readonly queues = new Map<string, Map<string, number>>();

  private key(q: QueueRef): string {
    return `${q.city}\u0000${q.zone}`;
  }

  async join(q: QueueRef, driver: string, nowMs: number, maxLength: number): Promise<JoinResult> {
    const k = this.key(q);
    let m = this.queues.get(k);
    const spot = this.spot(m, driver);
    if (spot.position > 0) return { ...spot, added: false, full: false };
    if (spot.length >= maxLength) return { ...spot, added: false, full: true };
    if (!m) this.queues.set(k, (m = new Map()));
    m.set(driver, nowMs);
    return { position: m.size, length: m.size, added: true, full: false };
  }

  async leave(q: QueueRef, driver: string): Promise<{ removed: boolean; length: number }> {
    const k = this.key(q);
    const m = this.queues.get(k);
    const removed = m?.delete(driver) ?? false;
    if (m && m.size === 0) this.queues.delete(k);
    return { removed, length: m?.size ?? 0 };
  }

  async position(q: QueueRef, driver: string): Promise<QueueSpot> {
    return this.spot(this.queues.get(this.key(q)), driver);
  }

  async list(q: QueueRef, offset: number, limit: number): Promise<{ members: QueueMember[]; length: number }> {
    const m = this.queues.get(this.key(q));
    const members: QueueMember[] = [];
    if (!m) return { members, length: 0 };
    limit = Math.min(limit, MAX_LIST);
    let i = 0;
    for (const [driver, joined] of m) {
      if (i++ < offset) continue;
      if (members.length >= limit) break;
      members.push({ driver, joined });
    }
    return { members, length: m.size };
  }

  async clear(q: QueueRef): Promise<void> {
    this.queues.delete(this.key(q));
  }

  private spot(m: Map<string, number> | undefined, driver: string): QueueSpot {
    if (!m || !m.has(driver)) return { position: 0, length: m?.size ?? 0 };
    let i = 0;
    for (const d of m.keys()) {
      i++;
      if (d === driver) break;
    }
    return { position: i, length: m.size };
  }
}
