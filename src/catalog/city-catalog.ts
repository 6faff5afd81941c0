// The live catalog of cities and zones every node reads: loaded from the catalog store, kept current within 1 s, changed by the admin API.
import type { Bus } from '../bus/bus.js';
import type { CityDef } from '../config/cities.js';
import type { Logger } from '../observability/logger.js';
import { ProtocolError } from '../protocol/errors.js';
import type { CatalogChange, CatalogKind, CatalogStore } from '../storage/catalog-store.js';
import { zoneFitsCity } from './zones.js';
import type { ZoneDef } from './zones.js';

/** One change as the catalog's listeners see it: the entry before and after (undefined: absent). */
export type CatalogEvent =
  | { kind: 'city'; key: string; version: number; before: CityDef | undefined; after: CityDef | undefined }
  | { kind: 'zone'; key: string; version: number; before: ZoneDef | undefined; after: ZoneDef | undefined };
export type CatalogListener = (e: CatalogEvent) => void;

/** Bus channel on which a node that wrote a change announces the new version (the others then read it). */
export const CATALOG_CHANNEL = 'catalog';
/** Most attempts of one admin write when other writers keep moving the version. */
const WRITE_ATTEMPTS = 5;
/** Changes read from the store per catch-up step. */
const CATCH_UP_BATCH = 1000;

export interface CityCatalogOptions {
  store: CatalogStore;
  logger: Logger;
  /** How often the store's version is polled, ms (a missed bus message is caught up by then); 0: never (one node). */
  pollMs: number;
}

interface CityEntry { def: CityDef; created: number; version: number }
interface ZoneEntry { def: ZoneDef; version: number }

/**
 * Cities and zones as this node applies them. Reads are synchronous and cheap (hot paths call `city()`);
 * `cities()` returns the same array until a city changes, in creation order (overlapping boundaries: the
 * older city wins). Listeners hear every applied change once, in version order, on every node: a node that
 * writes applies its own change at once and announces it on the bus; the others read it from the store
 * on that message, or on the next poll when the message was lost, so a change applies everywhere within
 * about one bus hop (at most `pollMs` plus a store read when the bus drops it).
 */
export class CityCatalog {
  private v = 0;
  private readonly cityMap = new Map<string, CityEntry>();
  private readonly zoneMap = new Map<string, ZoneEntry>();
  private ordered: CityDef[] = [];
  private readonly listeners: CatalogListener[] = [];
  private bus: Bus | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The catch-up in progress; catch-ups never overlap (changes apply in order). */
  private catching: Promise<void> | null = null;
  private again = false;

  private constructor(private readonly o: CityCatalogOptions) {}

  /** Load the store; an empty store (never written) is first seeded with `seed` (the cities file). */
  static async open(o: CityCatalogOptions, seed: readonly CityDef[]): Promise<CityCatalog> {
    const c = new CityCatalog(o);
    if ((await o.store.version()) === 0 && seed.length > 0) {
      if (await o.store.seed(seed.map((d) => ({ kind: 'city' as const, key: d.name, doc: d })), Date.now())) {
        o.logger.info({ cities: seed.map((d) => d.name) }, 'catalog seeded from the cities file');
      }
    }
    await c.reload();
    // After the first start the file is only a seed: say so when it no longer matches what runs.
    const differs = seed.filter((d) => JSON.stringify(c.city(d.name)) !== JSON.stringify(d)).map((d) => d.name);
    if (differs.length > 0) o.logger.warn({ cities: differs }, 'the cities file differs from the catalog, which wins (the file only seeds an empty catalog): change cities through the admin API');
    return c;
  }

  /** Hear changes made on other nodes at once (they are also polled), and announce this node's on `bus`. */
  async attach(bus: Bus): Promise<void> {
    this.bus = bus;
    await bus.subscribe(CATALOG_CHANNEL, (payload) => {
      const v = Number(payload.toString());
      if (v > this.v) void this.catchUp();
    });
  }

  start(): void {
    if (this.o.pollMs > 0) {
      this.timer = setInterval(() => {
        this.o.store.version().then((v) => {
          if (v > this.v) return this.catchUp();
        }).catch((err) => this.o.logger.warn({ err }, 'catalog poll failed'));
      }, this.o.pollMs);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.catching;
  }

  /** Version of the newest change applied here (0: empty catalog). */
  get version(): number {
    return this.v;
  }

  /** Add a listener of applied changes (called in the order added). Never replaces earlier ones. */
  addChangeListener(l: CatalogListener): void {
    this.listeners.push(l);
  }

  /** Every city, oldest first (the same array until a city changes). */
  cities(): readonly CityDef[] {
    return this.ordered;
  }

  city(name: string): CityDef | undefined {
    return this.cityMap.get(name)?.def;
  }

  /** Version of the city's last change, or 0 when there is no such city. */
  cityVersion(name: string): number {
    return this.cityMap.get(name)?.version ?? 0;
  }

  zone(id: string): ZoneDef | undefined {
    return this.zoneMap.get(id)?.def;
  }

  zoneVersion(id: string): number {
    return this.zoneMap.get(id)?.version ?? 0;
  }

  /** Every zone, or those of one city. Allocates: for cold paths (admin views, index rebuilds). */
  zones(city?: string): ZoneDef[] {
    const out: ZoneDef[] = [];
    for (const z of this.zoneMap.values()) if (city === undefined || z.def.city === city) out.push(z.def);
    return out;
  }

  /** Create or replace a city. Refused (bad_request) as a second catch-all, (conflict) when one of its zones would fall outside. */
  putCity(def: CityDef): Promise<CatalogChange> {
    return this.write('city', def.name, def, () => {
      for (const c of this.ordered) {
        if (def.boundary === null && c.boundary === null && c.name !== def.name) throw new ProtocolError('bad_request', `boundary: only one city may have a null boundary; ${c.name} already has`);
      }
      for (const z of this.zones(def.name)) {
        if (!zoneFitsCity(z.polygon, def)) throw new ProtocolError('conflict', `zone ${z.id} would fall outside the new boundary: change or delete it first`);
      }
    });
  }

  /** Delete a city; `guard` may refuse (throw) from the state it sees (live drivers or jobs). Refused (conflict) while it has zones. */
  deleteCity(name: string, guard: () => void | Promise<void> = () => {}): Promise<CatalogChange> {
    return this.write('city', name, null, async () => {
      if (!this.cityMap.has(name)) throw new ProtocolError('not_found', `no city ${name}`);
      const zs = this.zones(name);
      if (zs.length > 0) throw new ProtocolError('conflict', `city ${name} has ${zs.length} zone(s) (${zs.slice(0, 5).map((z) => z.id).join(', ')}): delete them first`);
      await guard();
    });
  }

  /** Create or replace a zone; its city must exist and hold the polygon (bad_request naming the field). */
  putZone(def: ZoneDef): Promise<CatalogChange> {
    return this.write('zone', def.id, def, () => {
      const city = this.city(def.city);
      if (!city) throw new ProtocolError('bad_request', `city: no city ${def.city}`);
      if (!zoneFitsCity(def.polygon, city)) throw new ProtocolError('bad_request', `polygon is not inside the boundary of city ${def.city}`);
    });
  }

  deleteZone(id: string): Promise<CatalogChange> {
    return this.write('zone', id, null, () => {
      if (!this.zoneMap.has(id)) throw new ProtocolError('not_found', `no zone ${id}`);
    });
  }

  /** The newest `limit` changes, newest first. */
  history(limit: number): Promise<CatalogChange[]> {
    return this.o.store.history(limit);
  }

  /**
   * Check against the newest catalog, then compare-and-set on its version; when another writer got in
   * between, catch up and check again. Applies the change here at once and announces it.
   */
  private async write(kind: CatalogKind, key: string, doc: CityDef | ZoneDef | null, check: () => void | Promise<void>): Promise<CatalogChange> {
    for (let i = 0; i < WRITE_ATTEMPTS; i++) {
      await this.catchUp();
      const at = this.v;
      await check();
      const change = await this.o.store.write(kind, key, doc, at, Date.now());
      if (!change) continue;
      await this.catchUp(); // applies this change (and any before it) in order
      this.bus?.publish(CATALOG_CHANNEL, Buffer.from(String(change.version)));
      return change;
    }
    throw new ProtocolError('conflict', 'the catalog kept changing under this write: retry');
  }

  /** Apply every change the store has beyond this node's version, in order; one at a time. */
  catchUp(): Promise<void> {
    if (this.catching) {
      this.again = true;
      return this.catching.then(() => this.catchUp());
    }
    this.catching = (async () => {
      do {
        this.again = false;
        for (;;) {
          const changes = await this.o.store.changesSince(this.v, CATCH_UP_BATCH);
          if (changes === null) {
            await this.reload();
            break;
          }
          for (const c of changes) this.apply(c);
          if (changes.length < CATCH_UP_BATCH) break;
        }
      } while (this.again);
    })().catch((err) => this.o.logger.warn({ err }, 'catalog catch-up failed')).finally(() => {
      this.catching = null;
    });
    return this.catching;
  }

  /** Read the whole store and apply the difference (start-up, or a history trimmed past this node's version). */
  private async reload(): Promise<void> {
    const snap = await this.o.store.load();
    const seen = new Set<string>();
    for (const e of [...snap.entries].sort((a, b) => a.created - b.created)) {
      seen.add(`${e.kind}:${e.key}`);
      const cur = e.kind === 'city' ? this.cityMap.get(e.key) : this.zoneMap.get(e.key);
      if (cur?.version !== e.version) this.apply({ version: e.version, kind: e.kind, key: e.key, created: e.created, doc: e.doc, ts: 0 }, snap.version);
    }
    for (const name of [...this.cityMap.keys()]) if (!seen.has(`city:${name}`)) this.apply({ version: snap.version, kind: 'city', key: name, created: 0, doc: null, ts: 0 }, snap.version);
    for (const id of [...this.zoneMap.keys()]) if (!seen.has(`zone:${id}`)) this.apply({ version: snap.version, kind: 'zone', key: id, created: 0, doc: null, ts: 0 }, snap.version);
    this.v = Math.max(this.v, snap.version);
  }

  private apply(c: CatalogChange, atVersion = c.version): void {
    if (c.kind === 'city') {
      const before = this.cityMap.get(c.key);
      if (c.doc === null) this.cityMap.delete(c.key);
      else this.cityMap.set(c.key, { def: c.doc as CityDef, created: c.created, version: c.version });
      this.ordered = [...this.cityMap.values()].sort((a, b) => a.created - b.created).map((e) => e.def);
      this.v = Math.max(this.v, atVersion);
      this.emit({ kind: 'city', key: c.key, version: c.version, before: before?.def, after: c.doc === null ? undefined : (c.doc as CityDef) });
    } else {
      const before = this.zoneMap.get(c.key);
      if (c.doc === null) this.zoneMap.delete(c.key);
      else this.zoneMap.set(c.key, { def: c.doc as ZoneDef, version: c.version });
      this.v = Math.max(this.v, atVersion);
      this.emit({ kind: 'zone', key: c.key, version: c.version, before: before?.def, after: c.doc === null ? undefined : (c.doc as ZoneDef) });
    }
  }

  private emit(e: CatalogEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.o.logger.error({ err, kind: e.kind, key: e.key }, 'catalog listener failed');
      }
    }
  }
}
