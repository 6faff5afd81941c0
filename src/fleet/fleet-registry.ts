// All cities' live fleets: routes each driver to its city, rebuilds snapshots on a timer, expires the silent.
import { CityFleet, DriverStatus, NearestResult } from './city-fleet.js';
import type { DriverStatusCode } from './city-fleet.js';
import { CityLocator } from './city-locator.js';
import { CityProducts } from './city-products.js';
import { IndexBuilder } from './index-builder.js';
import type { CityDef } from '../config/cities.js';

/** Called with the ids of drivers removed by expiry (they are already gone from the fleet). */
export type ExpireListener = (ids: readonly string[]) => void;
/** Called after a local change of a driver's position or status: once per fix, so keep it cheap. */
export type LocalChangeListener = (id: string) => void;
/** A driver's status was set on this node (by the driver, an accepted job, a job's end, a closed socket). */
export type StatusListener = (id: string, status: DriverStatusCode) => void;
/** Called when a driver's city changed on this node (a fix placed it in another city, out of every city, or its city was removed): null means none. */
export type CityChangeListener = (id: string, city: string | null) => void;
/** Called after another node's newer position of a driver was applied (degrees, ms since the epoch). */
export type RemoteMoveListener = (id: string, city: string, lat: number, lng: number, ts: number) => void;

export interface FleetRegistryOptions {
  /** The cities at start; later lists come through `applyCities`. */
  cities: readonly CityDef[];
  /** How often dirty snapshots are rebuilt, ms. */
  rebuildMs: number;
  /** Drivers silent this long are removed, ms. */
  expireMs: number;
  initialCapacity?: number;
  /**
   * Cities with at least this many drivers rebuild their snapshot on a worker thread (the event loop only
   * copies positions in and swaps the result); smaller ones rebuild in place (cheaper than a round trip).
   * Default 5,000; Infinity keeps every rebuild in place.
   */
  asyncRebuildMin?: number;
}

/**
 * Owns one CityFleet per configured city. A driver lives in at most one city fleet: the one whose
 * boundary holds its newest position (drivers outside every city are kept only in history).
 */
export class FleetRegistry {
  readonly locator: CityLocator;
  private readonly fleets = new Map<string, CityFleet>();
  /**
   * The city fleets as a list, for `fleetOf`: no driver → city map is kept (each city fleet's own id → slot
   * map answers, a driver being in at most one; a separate map cost ~29 B per driver at 1,000,000 drivers,
   * issue #18). Rebuilt when the city list changes.
   */
  private fleetList: CityFleet[] = [];
  /** Status set before the driver's first fix, or kept while it is outside every city. */
  private readonly pendingStatus = new Map<string, DriverStatusCode>();
  /**
   * Product lists of connected drivers whose token has a `products` claim (the list objects are the
   * tokens' own, shared by every frame). Absent: the driver serves each city's default product.
   */
  private readonly productsOf = new Map<string, readonly string[]>();
  private timers: NodeJS.Timeout[] = [];
  private builder: IndexBuilder | null = null;
  private builderFailed = false;
  // Listener lists, called in the order added (plain arrays: the hot paths allocate nothing per call).
  private readonly expireListeners: ExpireListener[] = [];
  private readonly localChangeListeners: LocalChangeListener[] = [];
  private readonly remoteMoveListeners: RemoteMoveListener[] = [];
  private readonly cityChangeListeners: CityChangeListener[] = [];
  private readonly statusListeners: StatusListener[] = [];
  /** Each city's product list as last applied (joined), to tell a products change from another change. */
  private readonly productsKey = new Map<string, string>();

  constructor(private readonly opts: FleetRegistryOptions) {
    this.locator = new CityLocator(opts.cities);
    this.applyCities(opts.cities);
  }

  /**
   * The live city list changed (the catalog): new cities get a fleet, removed ones lose theirs (their
   * drivers leave the live fleet until a fix places them in another city), a changed boundary applies
   * from each driver's next fix, changed products re-map every driver's product bits at once.
   */
  applyCities(cities: readonly CityDef[]): void {
    this.locator.replace(cities);
    const names = new Set(cities.map((c) => c.name));
    for (const [name, fleet] of [...this.fleets]) {
      if (names.has(name)) continue;
      fleet.cancelAsyncRebuild();
      // Detach the fleet first: its drivers are in no city while the listeners hear of it.
      this.fleets.delete(name);
      this.fleetList = [...this.fleets.values()];
      fleet.forEachAlive((slot) => {
        const id = fleet.idAt(slot);
        this.pendingStatus.set(id, fleet.status[slot] as DriverStatusCode);
        this.cityChanged(id, null);
      });
      this.productsKey.delete(name);
    }
    for (const c of cities) {
      const key = `${(c.products ?? []).join(',')}|${c.defaultProduct ?? ''}`;
      const fleet = this.fleets.get(c.name);
      if (!fleet) {
        const products = new CityProducts(c.products, c.defaultProduct);
        this.fleets.set(c.name, new CityFleet({ name: c.name, initialCapacity: this.opts.initialCapacity, products }));
        this.fleetList = [...this.fleets.values()];
      } else if (this.productsKey.get(c.name) !== key) {
        const next = new CityProducts(c.products, c.defaultProduct);
        // Local drivers: from their token's list; mirrored ones: their old names still offered (their node re-sends on its next change).
        fleet.setOffered(next, (id, oldNames) => next.bitsOf(this.productsOf.get(id) ?? (oldNames.length > 0 ? oldNames : undefined)));
      }
      this.productsKey.set(c.name, key);
    }
  }

  /** Add a listener of drivers changing city on this node (their `config` frame). Never replaces earlier ones. */
  addCityChangeListener(l: CityChangeListener): void {
    this.cityChangeListeners.push(l);
  }

  private cityChanged(id: string, city: string | null): void {
    for (const l of this.cityChangeListeners) l(id, city);
  }

  /** Add a listener of expiry (e.g. forget per-driver state elsewhere). Never replaces earlier ones. */
  addExpireListener(l: ExpireListener): void {
    this.expireListeners.push(l);
  }

  /** Add a listener of local position and status changes (the cluster mirror). Never replaces earlier ones. */
  addLocalChangeListener(l: LocalChangeListener): void {
    this.localChangeListeners.push(l);
  }

  /** Add a listener of statuses set on this node (airport queues). Never replaces earlier ones; not called per fix. */
  addStatusListener(l: StatusListener): void {
    this.statusListeners.push(l);
  }

  /** Add a listener of states mirrored from other nodes (ETA telemetry, the mirror's own bookkeeping). Never replaces earlier ones. */
  addRemoteMoveListener(l: RemoteMoveListener): void {
    this.remoteMoveListeners.push(l);
  }

  private localChanged(id: string): void {
    const ls = this.localChangeListeners;
    for (let i = 0; i < ls.length; i++) ls[i]!(id);
  }

  start(): void {
    this.timers.push(setInterval(() => this.rebuildDirty(), this.opts.rebuildMs));
    this.timers.push(setInterval(() => this.expire(Date.now()), Math.min(5000, this.opts.expireMs)));
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const f of this.fleets.values()) f.cancelAsyncRebuild();
    void this.builder?.close();
    this.builder = null;
  }

  city(name: string): CityFleet | undefined {
    return this.fleets.get(name);
  }

  cities(): IterableIterator<CityFleet> {
    return this.fleets.values();
  }

  /**
   * The products a driver serves (its token's `products` claim; undefined when it has none: each city's
   * default product). Applied at once when the driver is in a city, else when a fix first places it in one.
   */
  setDriverProducts(id: string, products: readonly string[] | undefined): void {
    if (products === undefined) this.productsOf.delete(id);
    else this.productsOf.set(id, products);
    const fleet = this.fleetOf(id);
    if (fleet) {
      fleet.setProducts(id, fleet.offered.bitsOf(products));
      this.localChanged(id);
    }
  }

  /** Forget a driver's product list (its last socket closed); its bits in a city fleet stay until it leaves. */
  forgetDriverProducts(id: string): void {
    this.productsOf.delete(id);
  }

  /** The fleet a driver is in, if any. */
  fleetOf(id: string): CityFleet | undefined {
    const fl = this.fleetList;
    for (let i = 0; i < fl.length; i++) if (fl[i]!.slotOf(id) >= 0) return fl[i];
    return undefined;
  }

  /**
   * Move a driver's live position (degrees, ms, heading degrees or NaN, speed m/s or NaN).
   * Returns the city fleet it is now in, or undefined when outside every city.
   */
  update(id: string, lat: number, lng: number, ts: number, hdg: number, spd: number): CityFleet | undefined {
    const f = this.place(id, lat, lng, ts, hdg, spd);
    this.localChanged(id);
    return f;
  }

  /**
   * Apply a driver state mirrored from another node: positions older than the one held are ignored
   * (a node never moves a driver back in time), and no local-change listener is called (no echo).
   * `city` null means the driver left every city. `products`: the driver's bits in that city (undefined
   * from nodes that do not send them: the city's default product).
   */
  applyRemote(id: string, city: string | null, lat: number, lng: number, ts: number, hdg: number, spd: number, status: DriverStatusCode, products?: number): void {
    const cur = this.fleetOf(id);
    if (cur) {
      const s = cur.slotOf(id);
      if (s >= 0 && cur.ts[s]! > ts) return;
    }
    const target = city === null ? undefined : this.fleets.get(city);
    if (cur && cur !== target) {
      cur.remove(id);
    }
    if (!target) return;
    target.upsert(id, lat, lng, ts, hdg, spd, status, products ?? target.offered.defaultBits);
    const ls = this.remoteMoveListeners;
    for (let i = 0; i < ls.length; i++) ls[i]!(id, target.name, lat, lng, ts);
  }

  private place(id: string, lat: number, lng: number, ts: number, hdg: number, spd: number): CityFleet | undefined {
    const cityName = this.locator.locate(lat, lng);
    const target = cityName === null ? undefined : this.fleets.get(cityName);
    // Usually the driver is already in the city its fix lies in: one id lookup.
    let fleet = target !== undefined && target.slotOf(id) >= 0 ? target : this.fleetOf(id);
    if (fleet !== target) {
      let status: DriverStatusCode | undefined = this.pendingStatus.get(id);
      if (fleet) {
        const slot = fleet.slotOf(id);
        if (slot >= 0) status = fleet.status[slot] as DriverStatusCode;
        fleet.remove(id);
      }
      fleet = target;
      if (!fleet) {
        if (status !== undefined) this.pendingStatus.set(id, status);
        this.cityChanged(id, null);
        return undefined;
      }
      this.pendingStatus.delete(id);
      fleet.upsert(id, lat, lng, ts, hdg, spd, status ?? DriverStatus.offline, fleet.offered.bitsOf(this.productsOf.get(id)));
      this.cityChanged(id, fleet.name);
      return fleet;
    }
    if (fleet) fleet.upsert(id, lat, lng, ts, hdg, spd);
    return fleet;
  }

  /**
   * Drop a driver from the live fleet without telling any listener or other node: this node's copy of a
   * driver in a city it does not serve (handed over to that city's nodes, so never mirrored back here) is
   * stale, and the driver's next fix here must place it anew.
   */
  forget(id: string): void {
    this.fleetOf(id)?.remove(id);
  }

  /** Set a driver's status; remembered until its first fix in a city when it has none yet. */
  setStatus(id: string, status: DriverStatusCode): void {
    const fleet = this.fleetOf(id);
    if (!(fleet && fleet.setStatus(id, status))) this.pendingStatus.set(id, status);
    this.localChanged(id);
    const ls = this.statusListeners;
    for (let i = 0; i < ls.length; i++) ls[i]!(id, status);
  }

  /** The city a driver is in, or null. */
  cityNameOf(id: string): string | null {
    return this.fleetOf(id)?.name ?? null;
  }

  /** Current status code of a driver (offline when unknown). */
  statusOf(id: string): DriverStatusCode {
    const fleet = this.fleetOf(id);
    if (fleet) {
      const slot = fleet.slotOf(id);
      if (slot >= 0) return fleet.status[slot] as DriverStatusCode;
    }
    return this.pendingStatus.get(id) ?? DriverStatus.offline;
  }

  /** Live position of a driver, or undefined. Allocates: for cold paths (job frames). */
  position(id: string): { lat: number; lng: number; ts: number; hdg: number } | undefined {
    const fleet = this.fleetOf(id);
    if (!fleet) return undefined;
    const s = fleet.slotOf(id);
    if (s < 0) return undefined;
    return { lat: fleet.lat[s]!, lng: fleet.lng[s]!, ts: fleet.ts[s]!, hdg: fleet.hdg[s]! };
  }

  /** Rebuild the snapshots of cities that changed: large ones off-thread (see asyncRebuildMin), others in place. */
  rebuildDirty(): void {
    const min = this.opts.asyncRebuildMin ?? 5_000;
    for (const f of this.fleets.values()) {
      if (!f.indexDirty || f.rebuildPending) continue;
      if (f.size < min || this.builderFailed) {
        f.rebuildIndex();
        continue;
      }
      const job = f.beginAsyncRebuild();
      this.builder ??= new IndexBuilder();
      this.builder.build(job.input, job.n, job.nodeSize).then(
        (r) => f.installAsyncRebuild(job.ticket, job.n, r.data, r.pts, r.splits),
        () => {
          // The worker is gone (or closing): rebuild in place from now on, correctness first.
          this.builderFailed = true;
          f.cancelAsyncRebuild();
        },
      );
    }
  }

  expire(nowMs: number): void {
    const removed: string[] = [];
    for (const f of this.fleets.values()) {
      for (const id of f.expire(nowMs, this.opts.expireMs)) {
        removed.push(id);
      }
    }
    if (removed.length === 0) return;
    for (const l of this.expireListeners) l(removed);
  }

  /** Nearest drivers in one city; see CityFleet.nearest. */
  nearest(city: string, lat: number, lng: number, k: number, maxMetres: number, filter: ((slot: number) => boolean) | null, out: NearestResult, mask?: number): number {
    const f = this.fleets.get(city);
    if (!f) {
      out.count = 0;
      return 0;
    }
    return f.nearest(lat, lng, k, maxMetres, filter, out, mask);
  }
}
