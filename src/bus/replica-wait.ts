// WAIT for replicas after a write on one connection, bounded, with a back-off when the replicas fall behind.
import type { CommitDurability } from '../config/redis-settings.js';
import { nodeOfKey } from './redis-connection.js';
import type { RedisClient } from './redis-connection.js';

/** After a WAIT fell short, writes skip WAIT this long, ms, so a lost replica costs one wait per second, not one per write. */
export const WAIT_BACKOFF_MS = 1000;

/** Why a write stood without the replicas asked for: WAIT timed out (or failed), or was skipped during the back-off. */
export type UnreplicatedReason = 'timeout' | 'skipped';

/** Called for each write that stood with fewer replicas than asked (count it, log it; never throw). */
export type UnreplicatedListener = (reason: UnreplicatedReason, acked: number) => void;

/**
 * Redis replication is asynchronous: a write the primary acknowledged is lost if the primary dies before
 * a replica has it and Sentinel promotes that replica. `after()` runs `WAIT replicas timeoutMs` on the
 * connection that made the writes (WAIT covers every earlier write of that connection), so a caller that
 * awaits it answers its client only once that many replicas hold the writes, or the timeout passed.
 * A timeout never undoes anything (the writes are applied on the primary, and every node reads them):
 * they stand, the listener hears of it, and for WAIT_BACKOFF_MS later writes skip WAIT (also reported).
 * WAIT blocks the connection it runs on: give the writer a connection of its own. On a Redis Cluster the
 * WAIT goes to the connection of the primary owning `key`'s slot (the one that took the writes).
 */
export class ReplicaWait {
  /** Date.now() before which writes skip WAIT (after a shortfall). */
  private skipUntil = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly durability: CommitDurability,
    private readonly onUnreplicated: UnreplicatedListener = () => {},
  ) {}

  /** WAIT for the configured replicas after writes to `key`'s slot; never throws. Replicas 0: returns at once. */
  async after(key: string): Promise<void> {
    const { replicas, timeoutMs } = this.durability;
    if (replicas <= 0) return;
    if (Date.now() < this.skipUntil) {
      this.onUnreplicated('skipped', 0);
      return;
    }
    let acked = 0;
    try {
      const node = nodeOfKey(this.redis, key);
      acked = node ? await node.wait(replicas, timeoutMs) : 0;
    } catch {
      acked = 0; // the connection dropped (a failover): whether a replica has the writes is unknown
    }
    if (acked < replicas) {
      this.skipUntil = Date.now() + WAIT_BACKOFF_MS;
      this.onUnreplicated('timeout', acked);
    }
  }
}
