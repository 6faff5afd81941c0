// Admin API (ops role): create, replace, read and delete cities and zones at run time, through the live catalog.
import type { TemplatedApp } from 'uWebSockets.js';
import type { CityCatalog } from '../catalog/city-catalog.js';
import { parseZone } from '../catalog/zones.js';
import { CITY_NAME_PATTERN, parseCity } from '../config/cities.js';
import { ConfigError } from '../config/config-error.js';
import { unknownPolicy } from '../matching/live-policy.js';
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import type { JobService } from '../matching/job-service.js';
import type { ZoneQueue } from '../matching/zone-queue.js';
import { MAX_LIST } from '../matching/zone-queue.js';
import { ProtocolError } from '../protocol/errors.js';
import type { CatalogChange } from '../storage/catalog-store.js';
import { queryNumber, route } from './http-kit.js';
import type { HttpKitDeps, Reply } from './http-kit.js';

export interface AdminRouteDeps extends HttpKitDeps {
  catalog: CityCatalog;
  fleet: FleetRegistry;
  jobs: JobService;
  /** Largest PUT body, bytes (TAXIWAY_ADMIN_MAX_BODY_BYTES). */
  maxBodyBytes: number;
  /** Shortest fix interval a city may ask (the fix budget covers it), ms. */
  minFixIntervalMs: number;
  /** The airport queues, read by `GET /v1/admin/zones/:id/queue`. */
  zoneQueue: ZoneQueue;
}

const OPS = ['ops'] as const;
const MAX_HISTORY = 1000;

/** A validation failure of the shared city/zone checks becomes a 400 naming the field. */
function checked<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof ConfigError) throw new ProtocolError('bad_request', e.message);
    throw e;
  }
}

/** The path's name or id, checked; `key` names the field in errors. */
function pathKey(raw: string, key: string): string {
  if (!CITY_NAME_PATTERN.test(raw)) throw new ProtocolError('bad_request', `${key} must be 1-64 of A-Z a-z 0-9 _ -`);
  return raw;
}

/** A body's own `name`/`id`, when present, must be the path's; absent, the path's is used. */
function withKey(body: unknown, field: string, key: string): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ProtocolError('bad_request', 'body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (b[field] !== undefined && b[field] !== key) throw new ProtocolError('bad_request', `${field} ${JSON.stringify(b[field])} differs from the path's ${key}`);
  return { ...b, [field]: key };
}

const written = (c: CatalogChange, status: number, body: Record<string, unknown>): Reply => ({ status, body: { version: c.version, ...body } });

/**
 * Register `/v1/admin/*`. Every route is ops-only (403 `forbidden` for other roles). Cities and zones
 * are checked with the same code as the cities file (config/cities.ts, catalog/zones.ts); every change
 * takes the next catalog version and is applied on every node (catalog/city-catalog.ts).
 */
export function registerAdminRoutes(app: TemplatedApp, d: AdminRouteDeps): void {
  const { catalog } = d;

  app.get('/v1/admin/cities', route(d, {
    name: 'GET /v1/admin/cities', roles: OPS,
    handler: () => ({ status: 200, body: { version: catalog.version, cities: catalog.cities().map((c) => ({ version: catalog.cityVersion(c.name), city: c })) } }),
  }));

  app.get('/v1/admin/cities/:name', route(d, {
    name: 'GET /v1/admin/cities/:name', roles: OPS, params: 1,
    handler: ({ params }) => {
      const name = pathKey(params[0]!, 'name');
      const city = catalog.city(name);
      if (!city) throw new ProtocolError('not_found', `no city ${name}`);
      return { status: 200, body: { version: catalog.cityVersion(name), city } };
    },
  }));

  app.put('/v1/admin/cities/:name', route(d, {
    name: 'PUT /v1/admin/cities/:name', roles: OPS, params: 1, body: true, maxBodyBytes: d.maxBodyBytes,
    handler: async ({ params, body }) => {
      const name = pathKey(params[0]!, 'name');
      const raw = withKey(body, 'name', name);
      const city = checked(() => parseCity(raw, 'city', { minFixIntervalMs: d.minFixIntervalMs }));
      // The config layer cannot see the policies: their names are checked here (applied live, see LivePolicy).
      const bad = unknownPolicy(city, 'city');
      if (bad !== undefined) throw new ProtocolError('bad_request', bad);
      const existed = catalog.city(name) !== undefined;
      const c = await catalog.putCity(city);
      return written(c, existed ? 200 : 201, { city });
    },
  }));

  app.del('/v1/admin/cities/:name', route(d, {
    name: 'DELETE /v1/admin/cities/:name', roles: OPS, params: 1,
    handler: async ({ params }) => {
      const name = pathKey(params[0]!, 'name');
      const c = await catalog.deleteCity(name, async () => {
        // Refused while anything lives there: its drivers would silently lose their city and its jobs their settings.
        const drivers = d.fleet.city(name)?.size ?? 0;
        if (drivers > 0) throw new ProtocolError('conflict', `city ${name} has ${drivers} live driver(s): delete it when they have left (or expired)`);
        const live = await d.jobs.list({ state: 'live', city: name, limit: 1 });
        if (live.jobs.length > 0) throw new ProtocolError('conflict', `city ${name} has live jobs (${live.jobs[0]!.id}): delete it when they have ended`);
      });
      return written(c, 200, { deleted: name });
    },
  }));

  app.get('/v1/admin/zones', route(d, {
    name: 'GET /v1/admin/zones', roles: OPS,
    handler: ({ query }) => {
      const city = query.get('city');
      if (city !== null && !CITY_NAME_PATTERN.test(city)) throw new ProtocolError('bad_request', 'city must be 1-64 of A-Z a-z 0-9 _ -');
      const zones = catalog.zones(city ?? undefined).map((z) => ({ version: catalog.zoneVersion(z.id), zone: z }));
      return { status: 200, body: { version: catalog.version, zones } };
    },
  }));

  app.get('/v1/admin/zones/:id', route(d, {
    name: 'GET /v1/admin/zones/:id', roles: OPS, params: 1,
    handler: ({ params }) => {
      const id = pathKey(params[0]!, 'id');
      const zone = catalog.zone(id);
      if (!zone) throw new ProtocolError('not_found', `no zone ${id}`);
      return { status: 200, body: { version: catalog.zoneVersion(id), zone } };
    },
  }));

  app.put('/v1/admin/zones/:id', route(d, {
    name: 'PUT /v1/admin/zones/:id', roles: OPS, params: 1, body: true, maxBodyBytes: d.maxBodyBytes,
    handler: async ({ params, body }) => {
      const id = pathKey(params[0]!, 'id');
      const zone = checked(() => parseZone(withKey(body, 'id', id), 'zone'));
      const existed = catalog.zone(id) !== undefined;
      const c = await catalog.putZone(zone);
      return written(c, existed ? 200 : 201, { zone });
    },
  }));

  app.del('/v1/admin/zones/:id', route(d, {
    name: 'DELETE /v1/admin/zones/:id', roles: OPS, params: 1,
    handler: async ({ params }) => {
      const id = pathKey(params[0]!, 'id');
      return written(await catalog.deleteZone(id), 200, { deleted: id });
    },
  }));

  app.get('/v1/admin/zones/:id/queue', route(d, {
    name: 'GET /v1/admin/zones/:id/queue', roles: OPS, params: 1,
    handler: async ({ params, query }) => {
      const id = pathKey(params[0]!, 'id');
      const zone = catalog.zone(id);
      if (!zone) throw new ProtocolError('not_found', `no zone ${id}`);
      if (zone.kind !== 'airport_queue') throw new ProtocolError('not_found', `zone ${id} is a ${zone.kind} zone: only airport_queue zones have a queue`);
      const limit = queryNumber(query, 'limit', 100, 1, MAX_LIST, true);
      const offset = queryNumber(query, 'offset', 0, 0, 1_000_000, true);
      const { members, length } = await d.zoneQueue.list({ city: zone.city, zone: id }, offset, limit);
      const drivers = members.map((m, i) => ({ driver: m.driver, position: offset + i + 1, joined_ts: m.joined }));
      return { status: 200, body: { zone: id, city: zone.city, length, drivers } };
    },
  }));

  app.get('/v1/admin/changes', route(d, {
    name: 'GET /v1/admin/changes', roles: OPS,
    handler: async ({ query }) => {
      const limit = queryNumber(query, 'limit', 100, 1, MAX_HISTORY, true);
      return { status: 200, body: { version: catalog.version, changes: await catalog.history(limit) } };
    },
  }));
}
