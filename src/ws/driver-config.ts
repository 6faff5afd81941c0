// The driver app's server configuration: the `config` frame after `hello` and whenever a driver's effective settings change.
import type { CityCatalog, CatalogEvent } from '../catalog/city-catalog.js';
import { DRIVER_APP_STATES } from '../config/cities.js';
import type { DispatchSettings } from '../config/dispatch-settings.js';
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import { encodeFrame } from '../protocol/codec.js';
import type { ConfigFrame } from '../protocol/messages.js';
import type { Sock } from './delivery.js';
import type { Hub } from './hub.js';

export interface DriverConfigDeps {
  catalog: CityCatalog;
  fleet: FleetRegistry;
  hub: Hub;
  /** A city's dispatch settings now (defaults with its overrides): the offer timeout. */
  settings: (city: string) => DispatchSettings;
  /** Fix interval of every state where a city sets none (TAXIWAY_FIX_INTERVAL_MS), ms. */
  defaultFixIntervalMs: number;
  /** Counts each frame sent (metrics). */
  onSent?: () => void;
}

/** Most cached frames (distinct city × product-list pairs); past it the cache starts over. */
const MAX_CACHED = 4096;

/**
 * Sends each connected driver its effective settings as one `config` frame (docs/protocol.md): after
 * `hello`, when a fix moves it into another city (or out of every city), and when its city's settings
 * change in the catalog. A frame is encoded once per (city, product list) and shared by every driver
 * it fits, until the catalog changes that city.
 */
export class DriverConfig {
  private readonly frames = new Map<string, Buffer>();

  constructor(private readonly d: DriverConfigDeps) {}

  /** Hook into the fleet's city changes and the catalog's changes (the app adds these listeners). */
  cityChangeListener = (id: string, city: string | null): void => {
    const ws = this.d.hub.driverSocket(id);
    if (ws && !ws.getUserData().closed) this.send(ws, city);
  };

  /** Send the driver on `ws` its frame for `city` (after `hello`, and on every change). */
  send(ws: Sock, city: string | null): void {
    this.d.hub.delivery.reliable(ws, this.frame(city, ws.getUserData().products));
    this.d.onSent?.();
  }

  catalogListener = (e: CatalogEvent): void => {
    if (e.kind !== 'city') return;
    this.forget(e.key);
    // Drivers whose city was removed hear it from the fleet (their city becomes null) when it applies the new list.
    if (!e.after) return;
    for (const id of this.d.hub.driverIds()) {
      if (this.d.fleet.cityNameOf(id) === e.key) this.cityChangeListener(id, e.key);
    }
  };

  /** The frame for a driver now in `city` (null: in none yet) whose token names `products` (undefined: none). */
  frame(city: string | null, products: readonly string[] | undefined): Buffer {
    const key = `${city ?? ''}\u0000${products?.join(',') ?? '\u0000'}`;
    let f = this.frames.get(key);
    if (!f) {
      if (this.frames.size >= MAX_CACHED) this.frames.clear();
      f = encodeFrame(this.build(city, products));
      this.frames.set(key, f);
    }
    return f;
  }

  private build(city: string | null, products: readonly string[] | undefined): ConfigFrame {
    const def = city === null ? undefined : this.d.catalog.city(city);
    const iv = def?.driverApp?.fixIntervalMs;
    const intervals = {} as ConfigFrame['fix_interval_ms'];
    for (const s of DRIVER_APP_STATES) intervals[s] = iv?.[s] ?? this.d.defaultFixIntervalMs;
    const fleet = city === null ? undefined : this.d.fleet.city(city);
    // What the driver serves here: the city's products of its list (the city's default without a list).
    const serves = fleet ? fleet.offered.namesOf(fleet.offered.bitsOf(products)) : [...(products ?? [])];
    return {
      t: 'config',
      city,
      fix_interval_ms: intervals,
      offer_timeout_ms: this.d.settings(city ?? '').offerTimeoutMs,
      products: serves,
      v: city === null ? 0 : this.d.catalog.cityVersion(city),
    };
  }

  private forget(city: string): void {
    const prefix = `${city}\u0000`;
    for (const k of [...this.frames.keys()]) if (k.startsWith(prefix)) this.frames.delete(k);
  }
}
