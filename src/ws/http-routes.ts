// HTTP JSON routes of /v1 plus health, readiness and metrics.
import type { TemplatedApp } from 'uWebSockets.js';
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import { haversineMetres } from '../fleet/geo.js';
import type { ServedArea } from '../fleet/served-area.js';
import { ANY_PRODUCT, DriverStatus, NearestResult, statusName } from '../fleet/city-fleet.js';
import type { CityFleet } from '../fleet/city-fleet.js';
import type { DispatchSettings } from '../config/dispatch-settings.js';
import type { EtaModel } from '../eta/eta-model.js';
import type { JobService } from '../matching/job-service.js';
import { ProtocolError } from '../protocol/errors.js';
import { ID_PATTERN } from '../protocol/messages.js';
import { JOB_ID_PATTERN } from '../protocol/job-id.js';
import { PRODUCT_PATTERN } from '../protocol/products.js';
import { parseLatLng } from '../protocol/validate.js';
import type { HistoryStore } from '../storage/ports.js';
import { OpenJobsCapError } from '../matching/job-commands.js';
import type { JobRequestLimits } from './job-request-limits.js';
import type { CityRouting } from './city-routing.js';
import { jobListQuery } from './job-list-query.js';
import { errorReply, queryNumber, route } from './http-kit.js';
import { routeRecorder } from './http-metrics.js';
import type { HttpKitDeps, Reply, RouteSpec } from './http-kit.js';

export interface RouteDeps extends HttpKitDeps {
  fleet: FleetRegistry;
  jobs: JobService;
  eta: EtaModel;
  history: HistoryStore;
  /** Each configured backend's health, for /readyz. */
  health: () => Promise<Record<string, boolean>>;
  /** Outside every city: nearby's stale time and default radius (inside one, its `settings`), ms and metres. */
  staleMs: number;
  defaultRadiusM: number;
  /** A city's dispatch settings now (the live catalog's): nearby's default radius and stale time. */
  settings: (city: string) => DispatchSettings;
  /** Where the cities are, for the ETA points' sanity check. */
  served: ServedArea;
  /** Farthest an ETA point may be from the served area, and `from` from `to`, metres. */
  etaMaxDistanceM: number;
  /** Rate limits on job creation and cancellation. */
  jobLimits: JobRequestLimits;
  /** 421 for a city this node does not serve. */
  routing: CityRouting;
}

const MAX_TRACK = 10_000;
const MAX_NEARBY = 100;
const MAX_NEARBY_RADIUS_M = 50_000;

export function registerRoutes(app: TemplatedApp, d: RouteDeps): void {
  const near = new NearestResult(MAX_NEARBY);
  /** A GET route and its HEAD twin (same reply, headers only), each with its own metric labels. */
  const getAndHead = (pattern: string, spec: Omit<RouteSpec, 'name'>): void => {
    app.get(pattern, route(d, { ...spec, name: `GET ${pattern}` }));
    app.head(pattern, route(d, { ...spec, name: `HEAD ${pattern}` }));
  };

  app.post('/v1/jobs', route(d, {
    name: 'POST /v1/jobs', roles: ['rider'], body: true, ip: true,
    handler: async ({ principal, body, ip }) => {
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ProtocolError('bad_request', 'body must be a JSON object');
      const b = body as Record<string, unknown>;
      const pickup = parseLatLng(b.pickup, 'pickup');
      // Before the rate limits: a request for another node's city (fetch() sends a 421'd request twice) spends none.
      d.routing.check(d.fleet.locator.locate(pickup.lat, pickup.lng));
      d.jobLimits.check(principal!.sub, ip, Date.now());
      const dropoff = b.dropoff === undefined || b.dropoff === null ? null : parseLatLng(b.dropoff, 'dropoff');
      // Absent (or null, as before products existed): the city's default product.
      const product = b.product ?? undefined;
      if (product !== undefined && (typeof product !== 'string' || !PRODUCT_PATTERN.test(product))) throw new ProtocolError('bad_request', 'product must be 1-32 of a-z 0-9 _ -');
      try {
        return { status: 201, body: await d.jobs.create(principal!.sub, pickup, dropoff, product) };
      } catch (e) {
        if (e instanceof OpenJobsCapError) d.metrics.jobRequestsRefused.inc({ reason: 'open_jobs' });
        throw e;
      }
    },
  }));

  // Ops: the jobs the repository holds (live ones, recently finished ones), newest first.
  getAndHead('/v1/jobs', {
    roles: ['ops'],
    handler: async ({ query }) => {
      const page = await d.jobs.list(jobListQuery(query));
      return { status: 200, body: { jobs: page.jobs, next: page.next } };
    },
  });

  app.get('/v1/jobs/:id', route(d, {
    name: 'GET /v1/jobs/:id', roles: ['rider', 'driver', 'ops'], params: 1,
    handler: async ({ principal, params }) => {
      const id = params[0]!;
      const p = principal!;
      const rec = JOB_ID_PATTERN.test(id) ? await d.jobs.find(id) : undefined;
      const visible = rec && (p.role === 'ops' || (p.role === 'rider' && rec.rider === p.sub) || (p.role === 'driver' && rec.driver === p.sub));
      if (!visible) throw new ProtocolError('not_found', `no job ${id}`);
      return { status: 200, body: rec };
    },
  }));

  app.post('/v1/jobs/:id/cancel', route(d, {
    name: 'POST /v1/jobs/:id/cancel', roles: ['rider'], params: 1, body: true, ip: true,
    handler: async ({ principal, params, ip }) => {
      d.jobLimits.check(principal!.sub, ip, Date.now());
      const id = params[0]!;
      if (!JOB_ID_PATTERN.test(id)) throw new ProtocolError('not_found', `no job ${id}`);
      return { status: 200, body: await d.jobs.riderCancel(principal!.sub, id) };
    },
  }));

  app.get('/v1/drivers/nearby', route(d, {
    name: 'GET /v1/drivers/nearby', roles: ['rider', 'ops'],
    handler: ({ principal, query }) => {
      const lat = queryNumber(query, 'lat', undefined, -90, 90);
      const lng = queryNumber(query, 'lng', undefined, -180, 180);
      const city = d.fleet.locator.locate(lat, lng);
      d.routing.check(city);
      // The city's own radius and stale time, as dispatch uses them.
      const s = city === null ? undefined : d.settings(city);
      const radius = queryNumber(query, 'radius_m', Math.min(s?.radiusM ?? d.defaultRadiusM, MAX_NEARBY_RADIUS_M), 1, MAX_NEARBY_RADIUS_M);
      const limit = queryNumber(query, 'limit', 10, 1, MAX_NEARBY, true);
      const isOps = principal!.role === 'ops';
      const fleet = city === null ? undefined : d.fleet.city(city);
      const mask = productMask(query.get('product'), fleet);
      const drivers: Array<Record<string, unknown>> = [];
      if (fleet) {
        const now = Date.now();
        const freshAfter = now - (s?.staleMs ?? d.staleMs);
        const n = fleet.nearest(lat, lng, limit, radius, (s) => fleet.status[s] === DriverStatus.available && fleet.ts[s]! >= freshAfter, near, mask);
        for (let i = 0; i < n; i++) {
          const s = near.slots[i]!;
          const dl = fleet.lat[s]!;
          const dg = fleet.lng[s]!;
          const item: Record<string, unknown> = { lat: dl, lng: dg, distance_m: Math.round(near.metres[i]!), eta_s: d.eta.seconds(dl, dg, lat, lng, now) };
          if (isOps) {
            item.id = fleet.idAt(s);
            item.status = statusName(fleet.status[s] as 0 | 1 | 2);
            item.products = fleet.offered.namesOf(fleet.products[s]!);
          }
          drivers.push(item);
        }
      }
      // `city` tells "no drivers near" (a city) from "not served here" (null): both answer 200.
      return { status: 200, body: { drivers, city } };
    },
  }));

  app.get('/v1/eta', route(d, {
    name: 'GET /v1/eta', roles: ['driver', 'rider', 'ops'],
    handler: ({ query }) => {
      const from = parsePair(query.get('from'), 'from');
      const to = parsePair(query.get('to'), 'to');
      checkEtaPoints(from, to, d.served, d.etaMaxDistanceM);
      d.routing.check(d.fleet.locator.locate(from.lat, from.lng));
      let at = Date.now();
      const atRaw = query.get('at');
      if (atRaw) {
        at = Date.parse(atRaw);
        if (!Number.isFinite(at) || !/^\d{4}-\d{2}-\d{2}/.test(atRaw)) throw new ProtocolError('bad_request', 'at must be an ISO-8601 time');
      }
      return { status: 200, body: d.eta.estimate(from.lat, from.lng, to.lat, to.lng, at) };
    },
  }));

  app.get('/v1/drivers/:id/track', route(d, {
    name: 'GET /v1/drivers/:id/track', roles: ['driver', 'ops'], params: 1,
    handler: async ({ principal, params, query }) => {
      const id = params[0]!;
      if (!ID_PATTERN.test(id)) throw new ProtocolError('bad_request', 'id must be a driver id');
      if (principal!.role === 'driver' && principal!.sub !== id) throw new ProtocolError('forbidden', 'a driver may read only its own track');
      const from = queryNumber(query, 'from', 0, 0, 8.64e15, true);
      const to = queryNumber(query, 'to', Date.now() + 60_000, 0, 8.64e15, true);
      const limit = queryNumber(query, 'limit', MAX_TRACK, 1, MAX_TRACK, true);
      if (to < from) throw new ProtocolError('bad_request', 'to must not be before from');
      return { status: 200, body: await d.history.track(id, from, to, limit) };
    },
  }));

  getAndHead('/healthz', { roles: null, handler: () => ({ status: 200, body: { ok: true } }) });

  getAndHead('/readyz', {
    roles: null,
    handler: async () => {
      const checks = await d.health();
      const ok = Object.values(checks).every(Boolean);
      return { status: ok ? 200 : 503, body: { ok, checks } };
    },
  });

  getAndHead('/metrics', {
    roles: null,
    handler: async (): Promise<Reply> => ({ status: 200, raw: await d.metrics.registry.metrics(), contentType: d.metrics.registry.contentType }),
  });

  d.cors.registerPreflight(app, routeRecorder(d.metrics, 'OPTIONS /*'));

  // Everything else under /v1 (and elsewhere): a JSON 404, never the default empty reply.
  app.any('/*', route(d, {
    name: 'unmatched', roles: null,
    handler: ({ method, url }) => errorReply(new ProtocolError('not_found', `no route ${method.toUpperCase()} ${url}`), d.logger),
  }));
}

/**
 * Refuse ETA points no taxi trip joins: each must lie in (or within `maxM` of) a served city, and `to`
 * within `maxM` of `from`. A swapped LAT,LNG pair is the usual cause, so the message asks. With bounded
 * cities the swapped point is off the served area and named; with a catch-all city only the distance shows.
 */
function checkEtaPoints(from: LatLng, to: LatLng, served: ServedArea, maxM: number): void {
  const limit = `the limit is ${km(maxM)} km, TAXIWAY_ETA_MAX_DISTANCE_M`;
  for (const [name, p] of [['from', from], ['to', to]] as const) {
    const off = served.distanceM(p.lat, p.lng);
    if (off > maxM) {
      const where = off === Infinity ? '' : ` (${km(off)} km away; ${limit})`;
      throw new ProtocolError('bad_request', `${name} is outside every served city${where}; did you swap lat and lng? The order is LAT,LNG`);
    }
  }
  const apart = haversineMetres(from.lat, from.lng, to.lat, to.lng);
  if (apart > maxM) {
    // Swapping either point is a near-mirror of swapping the other: the pair alone cannot tell which is wrong.
    throw new ProtocolError('bad_request', `from and to are ${km(apart)} km apart (${limit}); did you swap lat and lng in one of them? The order is LAT,LNG`);
  }
}

const km = (m: number): string => Math.round(m / 1000).toLocaleString('en-US');

interface LatLng { lat: number; lng: number }

/**
 * nearby's `product` parameter as a product mask: absent or empty, any driver (ANY_PRODUCT);
 * bad_request naming `product` for a malformed name or one the point's city does not offer.
 */
function productMask(raw: string | undefined | null, fleet: CityFleet | undefined): number {
  if (raw === undefined || raw === null || raw === '') return ANY_PRODUCT;
  if (!PRODUCT_PATTERN.test(raw)) throw new ProtocolError('bad_request', 'product must be 1-32 of a-z 0-9 _ -');
  if (!fleet) return ANY_PRODUCT; // not served here: the answer is empty anyway
  const mask = fleet.offered.maskOf(raw);
  if (mask === 0) throw new ProtocolError('bad_request', `product ${raw} is not offered in ${fleet.name} (${fleet.offered.names.join(', ')})`);
  return mask;
}

function parsePair(v: string | null, name: string): { lat: number; lng: number } {
  if (!v) throw new ProtocolError('bad_request', `${name} is required as LAT,LNG`);
  const parts = v.split(',');
  if (parts.length !== 2 || parts[0]!.trim() === '' || parts[1]!.trim() === '') throw new ProtocolError('bad_request', `${name} must be LAT,LNG`);
  return parseLatLng({ lat: Number(parts[0]), lng: Number(parts[1]) }, name);
}
