// Bus port: cross-node publish/subscribe of binary messages. In-memory adapter here; Redis in redis-bus.ts.

export type BusHandler = (payload: Buffer) => void;

/**
 * Guarantees: every subscriber of a channel on every node (the publishing node included) receives each
 * message published after it subscribed, at most once, in publish order per publisher and channel (across
 * channels no order: on a Redis Cluster two channels may sit on two shards). Delivery is
 * best-effort: messages published while a node is disconnected from the bus are lost for that node, so
 * state that must survive lives in the JobRepo / storage, and the bus only carries notifications.
 */
export interface Bus {
  publish(channel: string, payload: Buffer): void;
  subscribe(channel: string, handler: BusHandler): Promise<void>;
  close(): Promise<void>;
  /** Messages and bytes published by this node, for metrics. */
  readonly stats: { published: number; publishedBytes: number; received: number };
}

/** Single-process bus: delivers synchronously to local subscribers. */
export class MemoryBus implements Bus {
  private readonly handlers = new Map<string, BusHandler[]>();
  readonly stats = { published: 0, publishedBytes: 0, received: 0 };

  publish(channel: string, payload: Buffer): void {
    this.stats.published++;
    this.stats.publishedBytes += payload.length;
    const hs = this.handlers.get(channel);
    if (!hs) return;
    for (const h of hs) {
      this.stats.received++;
      h(payload);
    }
  }

  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    const hs = this.handlers.get(channel);
    if (hs) hs.push(handler);
    else this.handlers.set(channel, [handler]);
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
