// Batch loop: per city, every batch window, hold the city's lease (one solver per city in a cluster) and run the batched policy's tick.
import { cityScoped } from '../storage/redis-keys.js';
import type { Lease } from '../bus/lease.js';
import type { Clock, ClockTimer } from '../util/clock.js';
import type { Logger } from '../observability/logger.js';

/** The lease holder relearns the city's dispatching jobs from the repository every this many batches (and when it takes the lease). */
export const RESYNC_EVERY_TICKS = 15;

/** A city's lease lasts this long past its last renewal, ms: two missed batches and a second of slack, then another node takes over. */
export function leaseTtlMs(batchWindowMs: number): number {
  return 2 * batchWindowMs + 1000;
}

export interface BatchLoopDeps {
  lease: Lease;
  /** This node's lease token: unique per process. */
  token: string;
  clock: Clock;
  logger: Logger;
  /** The city's batch window now, ms. */
  windowMs: (city: string) => number;
  /** Whether this node knows batched jobs in the city (else a loop not holding the lease stops). */
  hasWork: (city: string) => boolean;
  /** Whether the city dispatches batched now (else its loop stops and gives its lease back once it has no batched job). */
  batches: (city: string) => boolean;
  /** One batch; `resync` first relearns the city's jobs from the repository. */
  tick: (city: string, resync: boolean) => Promise<unknown>;
}

interface CityLoop { timer: ClockTimer | null; holding: boolean; ticks: number }

/**
 * Every node with batched jobs of a city on its board runs the city's loop; each batch it tries to take
 * (or renews) the city's lease, and only the holder solves. A holder that dies stops renewing: its lease
 * lapses after `leaseTtlMs` and the next node to try takes it (and relearns the city's jobs). Two
 * holders at once (a paused one that does not know it lost the lease) are safe, only wasteful: offers
 * are compare-and-set commits with claims.
 */
export class BatchLoop {
  private readonly loops = new Map<string, CityLoop>();
  private stopped = false;

  constructor(private readonly d: BatchLoopDeps) {}

  /** Start the city's loop (its first batch one window from now) unless it runs. */
  ensure(city: string): void {
    if (this.stopped || this.loops.has(city)) return;
    const l: CityLoop = { timer: null, holding: false, ticks: 0 };
    this.loops.set(city, l);
    this.schedule(city, l);
  }

  /**
   * The city's policy may have changed (live catalog): when it no longer batches and this node has no
   * batched job there, its loop stops now and the lease is given back (another node's batched jobs, if any,
   * take it at their next batch).
   */
  check(city: string): void {
    const l = this.loops.get(city);
    if (l === undefined || this.d.batches(city) || this.d.hasWork(city)) return;
    this.loops.delete(city);
    // A batch running now gives the lease back when it ends (see `schedule`).
    if (l.timer === null) return;
    this.d.clock.clearTimeout(l.timer);
    l.timer = null;
    this.release(city, l);
  }

  /** Whether this node holds the city's lease (as of its last batch). */
  holds(city: string): boolean {
    return this.loops.get(city)?.holding ?? false;
  }

  /** Stop every loop and give the leases back (a clean shutdown hands over at once). */
  async stop(): Promise<void> {
    this.stopped = true;
    const held: Promise<void>[] = [];
    for (const [city, l] of this.loops) {
      if (l.timer !== null) this.d.clock.clearTimeout(l.timer);
      if (l.holding) held.push(this.d.lease.release(leaseName(city), this.d.token).catch(() => undefined));
    }
    this.loops.clear();
    await Promise.all(held);
  }

  private schedule(city: string, l: CityLoop): void {
    l.timer = this.d.clock.setTimeout(() => {
      l.timer = null;
      this.run(city, l).catch((err: unknown) => this.d.logger.error({ err, city }, 'dispatch batch failed')).finally(() => {
        if (!this.stopped && this.loops.get(city) === l) this.schedule(city, l);
        else if (!this.stopped) this.release(city, l);
      });
    }, this.d.windowMs(city));
  }

  /** Give the city's lease back if `l` holds it (its loop has ended). */
  private release(city: string, l: CityLoop): void {
    if (!l.holding) return;
    l.holding = false;
    this.d.lease.release(leaseName(city), this.d.token).then(
      () => this.d.logger.info({ city }, 'dispatch lease given back: the city no longer dispatches batched'),
      (err: unknown) => this.d.logger.warn({ err, city }, 'dispatch lease not given back: it lapses by itself'),
    );
  }

  private async run(city: string, l: CityLoop): Promise<void> {
    // No batched job here: a loop not holding the lease ends; the holder's too once the city no longer batches.
    if (!this.d.hasWork(city) && (!l.holding || !this.d.batches(city))) {
      this.loops.delete(city);
      return;
    }
    const name = leaseName(city);
    const ttl = leaseTtlMs(this.d.windowMs(city));
    let held: boolean;
    try {
      // A holder whose lease lapsed (a long pause) takes it again if nobody else did meanwhile.
      held = (l.holding && (await this.d.lease.renew(name, this.d.token, ttl))) || (await this.d.lease.acquire(name, this.d.token, ttl));
    } catch (err) {
      this.d.logger.warn({ err, city }, 'dispatch lease not reachable: no batch this time');
      held = false;
    }
    const taken = held && !l.holding;
    // (A lapsed-and-retaken lease counts as kept: nobody else solved meanwhile.)
    if (l.holding && !held) this.d.logger.warn({ city }, 'dispatch lease lost: another node solves this city');
    if (taken) this.d.logger.info({ city }, 'dispatch lease taken: this node solves the city\'s batches');
    l.holding = held;
    if (!held) return;
    await this.d.tick(city, taken || ++l.ticks % RESYNC_EVERY_TICKS === 0);
  }
}

/** Lease name of a city's batch solver: of the city's scope, so on Redis Cluster it sits in the city's slot. */
export function leaseName(city: string): string {
  return cityScoped(city, 'dispatch');
}
