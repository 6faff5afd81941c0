// Redis pub/sub Bus (cluster mode): one publisher and one subscriber connection per node, binary payloads.
import type { Redis } from 'ioredis';
import type { Bus, BusHandler } from './bus.js';

/**
 * Channels are prefixed so several deployments can share one Redis. Redis pub/sub is at-most-once:
 * a node that is disconnected misses what was published meanwhile (see the Bus guarantees). ioredis
 * re-subscribes by itself after a reconnect.
 */
export class RedisBus implements Bus {
  private readonly handlers = new Map<string, BusHandler[]>();
  readonly stats = { published: 0, publishedBytes: 0, received: 0 };
  /** Called when a handler throws (it must never take the subscriber down). */
  onError: (err: unknown, channel: string) => void = () => {};

  constructor(private readonly pub: Redis, private readonly sub: Redis, private readonly prefix: string) {
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      const name = channel.toString().slice(this.prefix.length);
      const hs = this.handlers.get(name);
      if (!hs) return;
      this.stats.received++;
      for (const h of hs) {
        try {
          h(message);
        } catch (err) {
          this.onError(err, name);
        }
      }
    });
  }

  publish(channel: string, payload: Buffer): void {
    this.stats.published++;
    this.stats.publishedBytes += payload.length;
    // Fire and forget: ioredis queues while reconnecting; a failure is a lost notification, by contract.
    this.pub.publish(this.prefix + channel, payload).catch((err) => this.onError(err, channel));
  }

  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    const hs = this.handlers.get(channel);
    if (hs) {
      hs.push(handler);
      return;
    }
    this.handlers.set(channel, [handler]);
    await this.sub.subscribe(this.prefix + channel);
  }

  async close(): Promise<void> {
    this.handlers.clear();
    this.sub.disconnect();
  }
}
