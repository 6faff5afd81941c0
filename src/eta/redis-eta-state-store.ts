// Cluster mode: learned ETA state in Redis (one document per city), written by one node holding a lease.
import type { Redis } from 'ioredis';
import type { EtaStateStore } from './eta-state-store.js';

/** How long the writer lease lasts, ms; renewed on every save. */
const LEASE_MS = 15 * 60_000;

export class RedisEtaStateStore implements EtaStateStore {
  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly nodeId: string) {}

  async load(city: string): Promise<string | null> {
    return this.redis.get(`${this.prefix}eta:${city}`);
  }

  async save(city: string, doc: string): Promise<void> {
    await this.redis.set(`${this.prefix}eta:${city}`, doc);
  }

  /** True when this node holds (or just took) the writer lease: one node saves for the cluster. */
  async isWriter(): Promise<boolean> {
    const key = `${this.prefix}eta:writer`;
    const got = await this.redis.set(key, this.nodeId, 'PX', LEASE_MS, 'NX');
    if (got === 'OK') return true;
    if ((await this.redis.get(key)) !== this.nodeId) return false;
    await this.redis.pexpire(key, LEASE_MS);
    return true;
  }
}
