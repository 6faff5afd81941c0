// The JSON bodies of the HTTP API (requests and replies): the source of the schemas in docs/openapi.json.
//
// `npm run specs` turns these types into JSON Schemas; the test helpers hold every HTTP reply of the
// end-to-end suites to them. A new route's bodies are declared here (the job record lives in job-record.ts),
// its operation in scripts/specs/openapi-paths.ts.
import type { CityDef, ZoneDef } from './catalog-docs.js';
import type { ErrorCode } from './errors.js';
import type { JobRecord } from './job-record.js';
import type { DriverStatusName, EpochMs, EtaSeconds, LatLng, Latitude, Longitude, PrincipalId, ProductName } from './messages.js';

/** `POST /v1/jobs` body. */
export interface JobCreateRequest {
  pickup: LatLng;
  dropoff?: LatLng | null;
  /** Absent or null: the pickup city's default product. */
  product?: ProductName | null;
}

/** `GET /v1/jobs` reply (ops, taxiway extension). */
export interface JobListPage {
  jobs: JobRecord[];
  /** Cursor of the next page; null on the last page. */
  next: string | null;
}

/** One driver of `GET /v1/drivers/nearby`; `id`, `status` and `products` for ops only. */
export interface NearbyDriver {
  lat: Latitude;
  lng: Longitude;
  /**
   * Metres from the asked point.
   * @asType integer
   * @minimum 0
   */
  distance_m: number;
  eta_s: EtaSeconds;
  id?: PrincipalId;
  status?: DriverStatusName;
  products?: ProductName[];
}

/** `GET /v1/drivers/nearby` reply: nearest first. */
export interface NearbyReply {
  drivers: NearbyDriver[];
  /** The served city holding the point, or null outside every city (taxiway extension). */
  city: string | null;
}

/** `GET /v1/eta` reply. */
export interface EtaReply {
  eta_s: EtaSeconds;
  /**
   * Estimated road distance, metres.
   * @minimum 0
   */
  distance_m: number;
}

/** One stored fix: [ts, lat, lng, hdg, spd, acc], missing optional values null. */
export type TrackPoint = [ts: EpochMs, lat: Latitude, lng: Longitude, hdg: number | null, spd: number | null, acc: number | null];

/** `GET /v1/drivers/:id/track` reply, oldest first. */
export interface TrackReply {
  points: TrackPoint[];
  /** `from` of the following page, when there is one. */
  next?: EpochMs;
}

/** `GET /healthz` reply. */
export interface HealthReply {
  ok: true;
}

/** `GET /readyz` reply: one boolean per configured backend (`storage`, `redis` in a cluster). */
export interface ReadyReply {
  ok: boolean;
  checks: { [backend: string]: boolean };
}

/** Every HTTP error body. */
export interface ErrorBody {
  error: {
    code: ErrorCode;
    /** Names the offending field or parameter. */
    message: string;
    /** With `pickup_not_allowed`: the id of the `no_pickup` zone holding the pickup (extension, 2026-12-04). */
    zone?: string;
    /** With `misdirected`: the request's city, served by other nodes (extension, 2026-12-05). */
    city?: string;
    /** With `misdirected`: the base URL of a node serving `city`; absent when none is known now (extension, 2026-12-05). */
    url?: string;
  };
}

/**
 * A catalog version: every admin change takes the next one (1, 2, ...).
 * @asType integer
 * @minimum 0
 */
export type CatalogVersion = number;

/** One city of `GET /v1/admin/cities`: `version` is its last change. */
export interface VersionedCity {
  version: CatalogVersion;
  city: CityDef;
}

/** `GET /v1/admin/cities` reply (ops, taxiway extension): oldest first. */
export interface AdminCityList {
  version: CatalogVersion;
  cities: VersionedCity[];
}

/** `GET` and `PUT /v1/admin/cities/:name` reply: the city and its version (for PUT: the change's). */
export type AdminCityReply = VersionedCity;

/** `PUT /v1/admin/cities/:name` body: a city as in the cities file; `name` may be left out (the path's). */
export type AdminCityRequest = Omit<CityDef, 'name'> & { name?: string };

/** One zone of `GET /v1/admin/zones`: `version` is its last change. */
export interface VersionedZone {
  version: CatalogVersion;
  zone: ZoneDef;
}

/** `GET /v1/admin/zones` reply (ops, taxiway extension). */
export interface AdminZoneList {
  version: CatalogVersion;
  zones: VersionedZone[];
}

/** `GET` and `PUT /v1/admin/zones/:id` reply. */
export type AdminZoneReply = VersionedZone;

/** `PUT /v1/admin/zones/:id` body; `id` may be left out (the path's). */
export type AdminZoneRequest = Omit<ZoneDef, 'id'> & { id?: string };

/** One driver of an airport queue, in queue order. */
export interface AdminQueuedDriver {
  driver: string;
  /**
   * 1 = offered first.
   * @asType integer
   * @minimum 1
   */
  position: number;
  /** When it joined the queue (the joining node's clock). */
  joined_ts: EpochMs;
}

/** `GET /v1/admin/zones/:id/queue` reply (ops, taxiway extension, 2026-12-05): the zone's airport queue from `offset + 1` on. */
export interface AdminZoneQueue {
  zone: string;
  city: string;
  /**
   * Drivers in the queue.
   * @asType integer
   * @minimum 0
   */
  length: number;
  drivers: AdminQueuedDriver[];
}

/** `DELETE /v1/admin/cities/:name` and `/v1/admin/zones/:id` reply: the change's version and what was deleted. */
export interface AdminDeleteReply {
  version: CatalogVersion;
  deleted: string;
}

/** One change of the catalog history: a put (`doc` the new document) or a delete (`doc` null). */
export interface AdminChange {
  version: CatalogVersion;
  kind: 'city' | 'zone';
  /** The city's name or the zone's id. */
  key: string;
  /** Version that created the entry (for a delete: of the entry deleted). */
  created: CatalogVersion;
  doc: CityDef | ZoneDef | null;
  /** When the change was written (the writer's clock). */
  ts: EpochMs;
}

/** `GET /v1/admin/changes` reply: newest first. */
export interface AdminChangeList {
  version: CatalogVersion;
  changes: AdminChange[];
}
