// The city and zone documents as the cities file, the admin API and the catalog carry them (one home: config and catalog use these).
import type { MultiPolygon, Polygon } from 'geojson';
import type { DriverStatusName } from './messages.js';

/** A city's dispatch settings (defaults from the flag table, src/config/settings.ts; per-city overrides in `CityDef.dispatch`). */
export interface DispatchSettings {
  /** Search radius around the pickup, metres. */
  radiusM: number;
  /** How long a driver has to answer an offer, ms. */
  offerTimeoutMs: number;
  /** Most drivers offered one job before it becomes unfulfilled. */
  maxAttempts: number;
  /** A driver whose last fix is older than this is not a candidate, ms. */
  staleMs: number;
  /** Average road speed for the baseline ETA, m/s. */
  speedMps: number;
  /**
   * How long a job that finds no eligible driver keeps waiting for one (`dispatching`) before it is
   * `unfulfilled`, ms from when its search began; 0: unfulfilled at once.
   */
  searchWindowMs: number;
  /** The search radius grows in steps from `radiusM` to this over the search window, metres (below `radiusM`: no growth). */
  maxRadiusM: number;
  /** Batched policy: how long a city's pending jobs are collected before one assignment is solved, ms. */
  batchWindowMs: number;
}

/**
 * A city's `dispatch` object: numeric overrides of the dispatch settings, and `policy`, the name of its
 * dispatch policy (TAXIWAY_DISPATCH_POLICY when absent; the name is checked against the policies when the
 * node starts, which names this field).
 */
export type CityDispatch = Partial<DispatchSettings> & { policy?: string };

/** One arm: the dispatch policy and settings the whole city runs in the windows assigned to it. */
export interface ArmDef {
  /** 1-64 of A-Z a-z 0-9 _ -, unique in its experiment. */
  name: string;
  /** A dispatch policy name; checked against the policies (matching/dispatch-policy.ts) when the node starts. */
  policy: string;
  /** Dispatch settings this arm overrides on top of the city's, each within its flag-table range. */
  params?: Partial<DispatchSettings>;
  /** Share of the windows, in (0, 1); when given for one arm it is given for all and they sum to 1. Default: equal shares. */
  share?: number;
}

/** A switchback experiment: the city alternates between arms in windows of `windowMs`, in an order drawn from `seed`. */
export interface ExperimentDef {
  /** 1-64 of A-Z a-z 0-9 _ -, unique in its city. */
  name: string;
  /** 2 to MAX_ARMS arms. */
  arms: ArmDef[];
  /** Window length, ms (WINDOW_MIN_MS to WINDOW_MAX_MS). Windows are aligned on `startMs` (or the epoch). */
  windowMs: number;
  /** Seed of the arm order, an integer 0 to 2^32-1: the same seed gives the same schedule on every node. */
  seed: number;
  /** When the experiment starts, ms since the epoch (inclusive); absent: it has always run. */
  startMs?: number;
  /** When it ends, ms since the epoch (exclusive); absent: it never ends. */
  endMs?: number;
}

/** Per-city driver-app settings: how often the app sends a fix in each driver state, ms (each within TAXIWAY_FIX_INTERVAL_MS's range). */
export interface DriverAppOverrides {
  fixIntervalMs?: Partial<Record<DriverStatusName, number>>;
}

/** A served city, as the cities file holds it and the admin API reads and writes it. */
export interface CityDef {
  /** 1-64 of A-Z a-z 0-9 _ -. */
  name: string;
  /** IANA zone name, e.g. 'Europe/Paris'. */
  timezone: string;
  /** GeoJSON geometry in [lng, lat] degrees; null means "everywhere" and is checked after all bounded cities. */
  boundary: Polygon | MultiPolygon | null;
  /** Per-city dispatch overrides, each within the range of its global setting, and the city's dispatch policy. */
  dispatch?: CityDispatch;
  /** Files the city's learned ETA starts from when it has no saved state (paths relative to the cities file; cities file only). */
  eta?: { seedTrips?: string; seedTraces?: string };
  /**
   * Products the city offers (1-32 unique names of a-z 0-9 _ -); absent means only `defaultProduct`.
   * A job for another product is refused; a driver serves here only the products of its own list the city offers.
   */
  products?: string[];
  /** Product of a job that names none and of a driver whose token has no `products` claim; default `taxi`. Must be in `products` when that is given. */
  defaultProduct?: string;
  /** Switchback experiments of the city's dispatch (config/experiments.ts); at most one runs at a time. Cities file only. */
  experiments?: ExperimentDef[];
  /** What the city's drivers' apps are told in their `config` frame (docs/protocol.md); absent fields take the node's defaults. */
  driverApp?: DriverAppOverrides;
}

/** What a zone is for. `airport_queue`: a FIFO of available drivers; `no_pickup`: jobs may not start there; `info`: reported only. */
export const ZONE_KINDS = ['airport_queue', 'no_pickup', 'info'] as const;
export type ZoneKind = (typeof ZONE_KINDS)[number];

/** A named polygon inside a city (admin API `/v1/admin/zones`). */
export interface ZoneDef {
  /** 1-64 of A-Z a-z 0-9 _ - (the admin API's path). */
  id: string;
  /** The city whose boundary holds the whole polygon. */
  city: string;
  kind: ZoneKind;
  /** Free text for people (ops views), at most 200 characters. */
  name?: string;
  /** GeoJSON Polygon in [lng, lat] degrees: closed rings, no self-intersection. */
  polygon: Polygon;
}
