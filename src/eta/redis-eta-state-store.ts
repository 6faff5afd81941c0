// Cluster mode: learned ETA state in Redis (one document per city), written by one node holding a lease.
import type { RedisClient } from '../bus/redis-connection.js';
import { RedisKeys } from '../storage/redis-keys.js';
import type { EtaStateStore } from './eta-state-store.js';

/** How long the writer lease lasts, ms; renewed on every save. */
const LEASE_MS = 15 * 60_000;

/** Keys (`storage/redis-keys.ts`): a city's document in the city's slot (`P{city}eta`); the writer lease untagged. */
export class RedisEtaStateStore implements EtaStateStore {
  private readonly keys: RedisKeys;

  constructor(private readonly redis: RedisClient, prefix: string, private readonly nodeId: string) {
    this.keys = new RedisKeys(prefix);
  }

  async load(city: string): Promise<string | null> {
    return this.redis.get(this.keys.eta(city));
  }

  async save(city: string, doc: string): Promise<void> {
    await this.redis.set(this.keys.eta(city), doc);
  }

  /** True when this node holds (or just took) the writer lease: one node saves for the cluster. */
  async isWriter(): Promise<boolean> {
    const key = this.keys.etaWriter();
    const got = await this.redis.set(key, this.nodeId, 'PX', LEASE_MS, 'NX');
    if (got === 'OK') return true;
    if ((await this.redis.get(key)) !== this.nodeId) return false;
    await this.redis.pexpire(key, LEASE_MS);
    return true;
  }
}
