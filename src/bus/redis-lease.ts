// Redis lease adapter: SET NX PX to take a lease, and a Lua compare-by-token to renew or release it.
import type { Lease } from './lease.js';
import type { RedisClient } from './redis-connection.js';
import { RedisKeys } from '../storage/redis-keys.js';

/** Extend the key's expiry only while it still holds our token (KEYS[1] lease, ARGV[1] token, ARGV[2] ttl ms). */
const RENEW_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
/** Delete the key only while it still holds our token. */
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

type LeaseRedis = RedisClient & {
  twLeaseRenew(key: string, token: string, ttlMs: number): Promise<number>;
  twLeaseRelease(key: string, token: string): Promise<number>;
};

/**
 * Leases as Redis keys `<prefix>lease:<name>` holding the holder's token, expiring by Redis's own clock
 * (PX), so a dead holder's lease lapses without anyone cleaning up. See the Lease guarantees. A city's
 * lease names carry the city's hash tag (`cityScoped`), so the lease sits in the city's slot.
 */
export class RedisLease implements Lease {
  private readonly r: LeaseRedis;
  private readonly keys: RedisKeys;

  constructor(redis: RedisClient, prefix: string) {
    this.keys = new RedisKeys(prefix);
    redis.defineCommand('twLeaseRenew', { numberOfKeys: 1, lua: RENEW_LUA });
    redis.defineCommand('twLeaseRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
    this.r = redis as LeaseRedis;
  }

  async acquire(name: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.r.set(this.key(name), token, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async renew(name: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.r.twLeaseRenew(this.key(name), token, ttlMs)) === 1;
  }

  async release(name: string, token: string): Promise<void> {
    await this.r.twLeaseRelease(this.key(name), token);
  }

  async holder(name: string): Promise<string | undefined> {
    return (await this.r.get(this.key(name))) ?? undefined;
  }

  private key(name: string): string {
    return this.keys.lease(name);
  }
}
