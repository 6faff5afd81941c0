// Redis fleet mirror: per-tick coalesced GEOADD per city plus a per-city pub/sub batch to every node.
import { Packr, Unpackr } from 'msgpackr';
import type { Bus } from '../bus/bus.js';
import type { RedisClient } from '../bus/redis-connection.js';
import { RedisKeys, fleetChannel } from '../storage/redis-keys.js';
import type { Logger } from '../observability/logger.js';
import type { FleetRegistry } from './fleet-registry.js';
import type { DriverStatusCode } from './driver-status.js';
import type { FleetMirror } from './fleet-mirror.js';
import { FLEET_EXPIRE_LUA } from './lua/fleet-expire.lua.js';

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ mapsAsObjects: true, useRecords: false, int64AsType: 'number' });

/** Fields per driver in a batch: id, lat, lng, ts, status, hdg, spd. */
const F = 7;

export interface MirrorMetrics {
  /** Seconds from a batch's publication to its application on another node. */
  observeLag(seconds: number): void;
  /** Drivers sent / received in batches. */
  sent(n: number): void;
  received(n: number): void;
}

export interface RedisFleetMirrorOptions {
  redis: RedisClient;
  bus: Bus;
  fleet: FleetRegistry;
  logger: Logger;
  metrics: MirrorMetrics;
  prefix: string;
  nodeId: string;
  /** Coalescing tick, ms. */
  tickMs?: number;
  /** Drivers silent longer are removed from the mirror, ms (same as the fleet's expiry). */
  expireMs: number;
  /**
   * Whether this node serves a city (TAXIWAY_SERVE_CITIES); absent: every city. Only served cities'
   * channels are subscribed, loaded and swept: another city's fixes cost this node nothing. Its local
   * drivers' changes are published whatever their city (a driver crossing into a city served elsewhere
   * reaches that city's nodes before it is handed over).
   */
  serves?: (city: string) => boolean;
}

/**
 * Keys per city C (`storage/redis-keys.ts`, all tagged `{C}`: one Redis Cluster slot, so the per-tick MULTI
 * and the expiry script stay on the city's shard): `P{C}fleet:geo` (GEO set, for GEOSEARCH and outside
 * consumers), `P{C}fleet:pos` (hash id → "lat,lng,ts,status,hdg,spd,products", loaded by starting nodes),
 * `P{C}fleet:seen` (sorted set by last fix ts, for expiry). Channel `{C}fleet` (`fleetChannel`) carries one
 * msgpack batch per node per tick:
 * `{n: node, at: ms, d: [id, lat, lng, ts, status, hdg, spd, ...], p: [products, ...]}`, `p` holding each
 * driver's product bits (CityProducts) in the order of `d`. Products were added later: a `pos` value
 * without its 7th field, or a batch without `p`, means the city's default product (a node of the older
 * version ignores both).
 */
export class RedisFleetMirror implements FleetMirror {
  private readonly dirty = new Set<string>();
  /** Cities whose channel this node subscribed to (a served city, once). */
  private readonly mirrored = new Set<string>();
  private tick: NodeJS.Timeout | null = null;
  private sweep: NodeJS.Timeout | null = null;
  private readonly keys: RedisKeys;
  private readonly r: RedisClient & { twFleetExpire(geo: string, pos: string, seen: string, cutoff: string, max: string): Promise<number> };

  constructor(private readonly o: RedisFleetMirrorOptions) {
    o.redis.defineCommand('twFleetExpire', { numberOfKeys: 3, lua: FLEET_EXPIRE_LUA });
    this.r = o.redis as RedisFleetMirror['r'];
    this.keys = new RedisKeys(o.prefix);
  }

  private key(kind: 'geo' | 'pos' | 'seen', city: string): string {
    return this.keys.fleet(kind, city);
  }

  /** Local change listener: the driver's newest state goes out with the next tick. */
  private readonly markDirty = (id: string): void => {
    this.dirty.add(id);
  };

  /**
   * Remote change listener: another node's newer state replaced this node's, so a local change still waiting
   * for the tick is superseded. Sending the driver anyway would publish the other node's state as this
   * node's own, with whatever status that node had at its last tick: a node taking it (its own position time,
   * so not older) went back to that status (a driver handed over to node B was made offline on B again).
   */
  private readonly forgetSuperseded = (id: string): void => {
    this.dirty.delete(id);
  };

  async start(): Promise<void> {
    const { fleet } = this.o;
    await this.follow(this.newCities());
    fleet.addLocalChangeListener(this.markDirty);
    fleet.addRemoteMoveListener(this.forgetSuperseded);
    this.tick = setInterval(() => this.flush(), this.o.tickMs ?? 100);
    this.sweep = setInterval(() => void this.expire(), 5000);
  }

  async citiesChanged(): Promise<void> {
    await this.follow(this.newCities());
  }

  /** Served cities of the fleet not mirrored yet. */
  private newCities(): string[] {
    const out: string[] = [];
    for (const f of this.o.fleet.cities()) if (!this.mirrored.has(f.name) && (this.o.serves?.(f.name) ?? true)) out.push(f.name);
    return out;
  }

  /** Subscribe to each city's channel, then load its drivers (a batch arriving meanwhile is newer or ignored as older). */
  private async follow(cities: readonly string[]): Promise<void> {
    for (const city of cities) {
      this.mirrored.add(city);
      await this.o.bus.subscribe(mirrorChannel(city), (p) => this.onBatch(city, p));
    }
    await this.load(cities);
  }

  /** Load the cities' mirrored drivers that are fresher than the expiry. */
  private async load(cities: readonly string[]): Promise<void> {
    const cutoff = Date.now() - this.o.expireMs;
    let n = 0;
    for (const name of cities) {
      const f = { name };
      const all = await this.r.hgetall(this.key('pos', f.name));
      for (const [id, v] of Object.entries(all)) {
        const [lat, lng, ts, status, hdg, spd, products] = v.split(',').map(Number) as [number, number, number, number, number, number, number | undefined];
        if (!(ts >= cutoff) || !Number.isFinite(lat) || !Number.isFinite(lng)) continue;
        this.o.fleet.applyRemote(id, f.name, lat, lng, ts, hdg, spd, status as DriverStatusCode, productBits(products));
        n++;
      }
    }
    this.o.logger.info({ drivers: n, cities }, 'fleet loaded from redis');
  }

  /** Publish and store the newest state of every driver changed since the last tick. */
  private flush(): void {
    if (this.dirty.size === 0) return;
    const byCity = new Map<string, unknown[]>();
    const bitsByCity = new Map<string, number[]>();
    const { fleet } = this.o;
    for (const id of this.dirty) {
      const f = fleet.fleetOf(id);
      if (!f) continue; // outside every city: other nodes drop it on expiry
      const s = f.slotOf(id);
      if (s < 0) continue;
      let d = byCity.get(f.name);
      let p = bitsByCity.get(f.name);
      if (!d || !p) {
        byCity.set(f.name, (d = []));
        bitsByCity.set(f.name, (p = []));
      }
      d.push(id, f.lat[s], f.lng[s], f.ts[s], f.status[s], f.hdg[s], f.spd[s]);
      p.push(f.products[s]!);
    }
    this.dirty.clear();
    const at = Date.now();
    for (const [city, d] of byCity) {
      const p = bitsByCity.get(city)!;
      this.o.bus.publish(mirrorChannel(city), packr.pack({ n: this.o.nodeId, at, d, p }));
      this.o.metrics.sent(d.length / F);
      const geo: (string | number)[] = [];
      const pos: string[] = [];
      const seen: (string | number)[] = [];
      for (let i = 0; i < d.length; i += F) {
        const id = d[i] as string;
        geo.push(d[i + 2] as number, d[i + 1] as number, id);
        pos.push(id, `${d[i + 1]},${d[i + 2]},${d[i + 3]},${d[i + 4]},${d[i + 5]},${d[i + 6]},${p[i / F]}`);
        seen.push(d[i + 3] as number, id);
      }
      this.r
        .multi()
        .geoadd(this.key('geo', city), ...geo)
        .hset(this.key('pos', city), ...pos)
        .zadd(this.key('seen', city), ...seen)
        .exec()
        .catch((err) => this.o.logger.warn({ err: String(err) }, 'fleet mirror write failed'));
    }
  }

  private onBatch(city: string, payload: Buffer): void {
    let m: { n: string; at: number; d: unknown[]; p?: unknown };
    try {
      m = unpackr.unpack(payload) as typeof m;
    } catch {
      return;
    }
    if (m.n === this.o.nodeId || !Array.isArray(m.d)) return;
    const d = m.d;
    const p = Array.isArray(m.p) ? (m.p as unknown[]) : null;
    for (let i = 0; i + F <= d.length; i += F) {
      const bits = p === null ? undefined : productBits(p[i / F]);
      this.o.fleet.applyRemote(d[i] as string, city, d[i + 1] as number, d[i + 2] as number, d[i + 3] as number, (d[i + 5] as number) ?? NaN, (d[i + 6] as number) ?? NaN, d[i + 4] as DriverStatusCode, bits);
    }
    this.o.metrics.received(d.length / F);
    this.o.metrics.observeLag(Math.max(0, Date.now() - m.at) / 1000);
  }

  private async expire(): Promise<void> {
    const cutoff = String(Date.now() - this.o.expireMs);
    try {
      for (const city of this.mirrored) {
        while ((await this.r.twFleetExpire(this.key('geo', city), this.key('pos', city), this.key('seen', city), cutoff, '1000')) === 1000);
      }
    } catch (err) {
      this.o.logger.warn({ err: String(err) }, 'fleet mirror expiry failed');
    }
  }

  async stop(): Promise<void> {
    if (this.tick) clearInterval(this.tick);
    if (this.sweep) clearInterval(this.sweep);
    this.flush();
  }

  async healthy(): Promise<boolean> {
    try {
      return (await this.r.ping()) === 'PONG';
    } catch {
      return false;
    }
  }
}

/** A city's mirror channel (one per city, so a node subscribes to the cities it serves only). */
export function mirrorChannel(city: string): string {
  return fleetChannel(city);
}

/** Mirrored product bits: an unsigned 32-bit integer, else undefined (an older node's value: the city's default product). */
function productBits(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : undefined;
}
