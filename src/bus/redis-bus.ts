// Redis pub/sub Bus (cluster mode): one publisher and one subscriber connection per node, binary payloads.
import type { RedisClient } from './redis-connection.js';
import type { Bus, BusHandler } from './bus.js';
import { RedisKeys } from '../storage/redis-keys.js';

/**
 * Channels are prefixed so several deployments can share one Redis (`storage/redis-keys.ts`; a city's
 * channels carry its hash tag). Redis pub/sub is at-most-once: a node that is disconnected misses what was
 * published meanwhile (see the Bus guarantees). ioredis re-subscribes by itself after a reconnect.
 *
 * `sharded` (a Redis Cluster): SPUBLISH/SSUBSCRIBE (Redis ≥ 7). Plain PUBLISH on a Cluster is broadcast
 * over the cluster bus to every node, so each message costs every shard; a sharded channel lives in the
 * slot of its name, so a city's mirror batches stay on the city's shard and only the nodes subscribed to
 * it hear them. The subscriber must be a Cluster opened with `shardedSubscribers` (one subscriber
 * connection per primary, re-subscribed by ioredis after a failover or a slot move).
 */
export class RedisBus implements Bus {
  private readonly handlers = new Map<string, BusHandler[]>();
  private readonly keys: RedisKeys;
  readonly stats = { published: 0, publishedBytes: 0, received: 0 };
  /** Called when a handler throws (it must never take the subscriber down). */
  onError: (err: unknown, channel: string) => void = () => {};

  constructor(private readonly pub: RedisClient, private readonly sub: RedisClient, prefix: string, private readonly sharded = false) {
    this.keys = new RedisKeys(prefix);
    const onMessage = (channel: Buffer, message: Buffer): void => {
      const name = channel.toString().slice(prefix.length);
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
    };
    sub.on(sharded ? 'smessageBuffer' : 'messageBuffer', onMessage);
  }

  publish(channel: string, payload: Buffer): void {
    this.stats.published++;
    this.stats.publishedBytes += payload.length;
    // Fire and forget: ioredis queues while reconnecting; a failure is a lost notification, by contract.
    const name = this.keys.channel(channel);
    const sent = this.sharded ? this.pub.spublish(name, payload) : this.pub.publish(name, payload);
    sent.catch((err: unknown) => this.onError(err, channel));
  }

  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    const hs = this.handlers.get(channel);
    if (hs) {
      hs.push(handler);
      return;
    }
    this.handlers.set(channel, [handler]);
    const name = this.keys.channel(channel);
    await (this.sharded ? this.sub.ssubscribe(name) : this.sub.subscribe(name));
  }

  async close(): Promise<void> {
    this.handlers.clear();
    this.sub.disconnect();
  }
}
