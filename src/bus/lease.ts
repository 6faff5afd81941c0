// Lease port: a named, expiring, token-owned lock (one batch solver per city); in-memory adapter here, Redis in redis-lease.ts.
import { systemClock } from '../util/clock.js';
import type { Clock } from '../util/clock.js';

/**
 * Guarantees: at any instant at most one token holds a lease name, as far as the backend's clock goes
 * (a holder that stops renewing loses it `ttlMs` after its last acquire or renew). `acquire` takes a
 * free (or expired) lease; `renew` extends only the holder's own lease and answers false once it lost it;
 * `release` frees only the holder's own lease. A holder paused longer than its TTL may still believe it
 * holds the lease: work done under a lease must also be safe without it (dispatch's is: its commits are
 * compare-and-set and its claims refuse a second offer).
 */
export interface Lease {
  /** Take `name` for `ttlMs` as `token` if nobody holds it; true when taken. */
  acquire(name: string, token: string, ttlMs: number): Promise<boolean>;
  /** Extend `token`'s hold of `name` to `ttlMs` from now; false when `token` does not hold it (any more). */
  renew(name: string, token: string, ttlMs: number): Promise<boolean>;
  /** Free `name` if `token` holds it. */
  release(name: string, token: string): Promise<void>;
  /** The token holding `name` now, if any (for tests and logs). */
  holder(name: string): Promise<string | undefined>;
}

/** Leases of one process (embedded mode: one node, so it always gets them; tests: several "nodes" sharing one). */
export class MemoryLease implements Lease {
  private readonly held = new Map<string, { token: string; until: number }>();

  constructor(private readonly clock: Clock = systemClock) {}

  async acquire(name: string, token: string, ttlMs: number): Promise<boolean> {
    if (this.current(name) !== undefined) return false;
    this.held.set(name, { token, until: this.clock.now() + ttlMs });
    return true;
  }

  async renew(name: string, token: string, ttlMs: number): Promise<boolean> {
    if (this.current(name) !== token) return false;
    this.held.set(name, { token, until: this.clock.now() + ttlMs });
    return true;
  }

  async release(name: string, token: string): Promise<void> {
    if (this.current(name) === token) this.held.delete(name);
  }

  async holder(name: string): Promise<string | undefined> {
    return this.current(name);
  }

  private current(name: string): string | undefined {
    const h = this.held.get(name);
    if (!h) return undefined;
    if (h.until <= this.clock.now()) {
      this.held.delete(name);
      return undefined;
    }
    return h.token;
  }
}
