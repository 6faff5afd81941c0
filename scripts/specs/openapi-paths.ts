// Every HTTP route of a taxiway node, as the table docs/openapi.json is built from (bodies: src/protocol/http-bodies.ts).
//
// A route added to the server is added here too (the end-to-end tests fail on a reply to an undocumented
// route), then `npm run specs` regenerates docs/openapi.json.

/** A query or path parameter. */
export interface Param {
  name: string;
  in: 'query' | 'path';
  required?: boolean;
  schema: Record<string, unknown>;
  description: string;
}

/** A successful (or otherwise non-error) reply: a JSON body type of http-bodies.ts, or raw content. */
export interface Success {
  status: number;
  description: string;
  /** Name of a type in http-bodies.ts (JSON body). */
  body?: string;
  /** Non-JSON (or untyped JSON) content: media type -> schema. */
  content?: Record<string, Record<string, unknown>>;
  headers?: Record<string, { description: string; schema: Record<string, unknown> }>;
}

export interface Operation {
  method: 'get' | 'head' | 'post' | 'put' | 'delete';
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  /** Roles allowed; null: no token needed. */
  roles: Array<'driver' | 'rider' | 'ops'> | null;
  params?: Param[];
  /** Request body type of http-bodies.ts. */
  requestBody?: { type: string; required: boolean };
  ok: Success[];
  /** HTTP statuses of the error replies this route may give (bodies: ErrorBody, codes of that status). */
  errors: number[];
  tags: string[];
  /** Beyond the core protocol (docs/protocol.md, "taxiway extension"). */
  extension?: boolean;
}

const jobId: Param = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'Job id.' };
const latLngParam = (name: string, what: string): Param => ({ name, in: 'query', required: true, schema: { type: 'string', pattern: '^-?[0-9.]+,-?[0-9.]+$' }, description: `${what} as \`LAT,LNG\` in decimal degrees.` });
const intParam = (name: string, description: string, minimum: number, maximum: number): Param => ({ name, in: 'query', schema: { type: 'integer', minimum, maximum }, description });

/** Errors every route with a token may give. */
const AUTH = [401, 403];
/** What any route may answer when the node fails (500) or a backend is unreachable (503). */
const FAULT = [500, 503];

const jobRecordOk = (status: number, description: string): Success => ({ status, description, body: 'JobRecord' });

const wsUpgrade = (role: 'driver' | 'rider' | 'ops'): Operation => ({
  method: 'get', path: `/v1/${role}/ws`, operationId: `${role}Socket`, tags: ['sockets'], roles: [role],
  summary: `Open the ${role} WebSocket (frames: docs/asyncapi.json, channel ${role})`,
  description: 'A WebSocket upgrade. The token comes in the Authorization header or as `?token=` (browsers). Refused upgrades get a JSON error body and no socket.',
  params: [{ name: 'token', in: 'query', schema: { type: 'string' }, description: 'The JWT, when the client cannot send headers (browsers).' }],
  ok: [{ status: 101, description: 'Switching Protocols: the socket is open.' }],
  errors: [...AUTH, 429, 503],
});

const staticFile = (path: string, operationId: string, type: string, summary: string): Operation => ({
  method: 'get', path, operationId, tags: ['dashboard'], roles: null, summary, extension: true,
  description: 'Served only when the build ships the dashboard (web/); otherwise 404.',
  ok: [{ status: 200, description: 'The file.', content: { [type]: { schema: { type: 'string' } } } }],
  errors: [404],
});

const health = (method: 'get' | 'head'): Operation[] => {
  const head = method === 'head';
  const sfx = head ? 'Head' : '';
  const note = head ? ' (HEAD: the GET reply\'s status and headers, no body; taxiway extension)' : '';
  return [
    { method, path: '/healthz', operationId: `health${sfx}`, tags: ['operations'], roles: null, extension: head, summary: `Liveness${note}`, ok: [{ status: 200, description: 'The process is up.', body: head ? undefined : 'HealthReply' }], errors: [] },
    { method, path: '/readyz', operationId: `ready${sfx}`, tags: ['operations'], roles: null, extension: head, summary: `Readiness: every configured backend answers${note}`,
      ok: [{ status: 200, description: 'Ready.', body: head ? undefined : 'ReadyReply' }, { status: 503, description: 'A backend does not answer (`ok: false`).', body: head ? undefined : 'ReadyReply' }], errors: [] },
    { method, path: '/metrics', operationId: `metrics${sfx}`, tags: ['operations'], roles: null, extension: head, summary: `Prometheus metrics${note}`,
      ok: [{ status: 200, description: 'Prometheus text exposition.', content: head ? undefined : { 'text/plain': { schema: { type: 'string' } } } }], errors: [] },
  ];
};

const jobList = (method: 'get' | 'head'): Operation => ({
  method, path: '/v1/jobs', operationId: method === 'get' ? 'listJobs' : 'listJobsHead', tags: ['jobs'], roles: ['ops'], extension: true,
  summary: method === 'get' ? 'List the jobs the job repository holds, newest first' : 'List jobs: headers only',
  description: 'Every live job and finished ones kept for TAXIWAY_FINISHED_JOB_TTL_MS. Continue with `cursor` until `next` is null.',
  params: [
    { name: 'state', in: 'query', schema: { type: 'string', enum: ['live', 'dispatching', 'accepted', 'arrived', 'in_progress', 'completed', 'cancelled', 'unfulfilled'] }, description: 'A job state, or `live` for every non-final one.' },
    { name: 'city', in: 'query', schema: { type: 'string', maxLength: 64 }, description: 'A city name.' },
    intParam('limit', 'Jobs per page (default 50).', 1, 500),
    { name: 'cursor', in: 'query', schema: { type: 'string', pattern: '^[0-9]{1,16}$' }, description: 'The `next` of the previous page.' },
  ],
  ok: [{ status: 200, description: 'One page.', body: method === 'get' ? 'JobListPage' : undefined }],
  errors: [400, ...AUTH, ...FAULT],
});

/** Body types declared outside src/protocol/http-bodies.ts (by a higher layer), by name (their files: schemas.ts SOURCES). */
export const EXTRA_BODY_TYPES = ['ExperimentReport'];

const experiments = (method: 'get' | 'head'): Operation => ({
  method, path: '/v1/experiments', operationId: method === 'get' ? 'experiments' : 'experimentsHead', tags: ['experiments'], roles: ['ops'], extension: true,
  summary: method === 'get' ? 'Switchback experiments and their outcomes per arm, from this node\'s aggregates' : 'Experiments: headers only',
  description: 'docs/protocol.md, "HTTP API", describes every field.',
  ok: [{ status: 200, description: 'Every experiment of the cities file.', content: method === 'head' ? undefined : { 'application/json': { schema: {
    type: 'object', required: ['experiments'], additionalProperties: false,
    properties: { experiments: { type: 'array', items: { $ref: '#/components/schemas/ExperimentReport' } } },
  } } } }],
  errors: [400, ...AUTH, ...FAULT],
});


const nameParam: Param = { name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' }, description: 'City name.' };
const zoneParam: Param = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' }, description: 'Zone id.' };
const ADMIN_NOTE = 'docs/protocol.md, "Admin API: cities and zones". Every change takes the next catalog version and is applied on every node within about a second.';

/** The admin API (src/ws/admin-routes.ts): cities and zones at run time, ops only. */
const adminRoutes = (): Operation[] => {
  const admin = (o: Omit<Operation, 'tags' | 'roles' | 'extension'>): Operation => ({ ...o, tags: ['admin'], roles: ['ops'], extension: true });
  return [
    admin({ method: 'get', path: '/v1/admin/cities', operationId: 'adminListCities', summary: 'Every city of the catalog, oldest first', description: ADMIN_NOTE,
      ok: [{ status: 200, description: 'The catalog version and each city with its own.', body: 'AdminCityList' }], errors: [...AUTH, ...FAULT] }),
    admin({ method: 'get', path: '/v1/admin/cities/{name}', operationId: 'adminGetCity', summary: 'Read a city', params: [nameParam],
      ok: [{ status: 200, description: 'The city and its version.', body: 'AdminCityReply' }], errors: [400, ...AUTH, 404, ...FAULT] }),
    admin({ method: 'put', path: '/v1/admin/cities/{name}', operationId: 'adminPutCity', summary: 'Create or replace a city',
      description: `${ADMIN_NOTE} \`eta\` seed files are refused (cities file only); \`dispatch\` (its \`policy\` included) and \`experiments\` apply live, an experiments change from its next window; an unknown policy name is 400; a boundary leaving one of its zones outside is 409.`,
      params: [nameParam], requestBody: { type: 'AdminCityRequest', required: true },
      ok: [{ status: 201, description: 'Created.', body: 'AdminCityReply' }, { status: 200, description: 'Replaced.', body: 'AdminCityReply' }],
      errors: [400, ...AUTH, 409, 413, ...FAULT] }),
    admin({ method: 'delete', path: '/v1/admin/cities/{name}', operationId: 'adminDeleteCity', summary: 'Delete a city (409 while it has zones, live drivers or live jobs)', description: ADMIN_NOTE, params: [nameParam],
      ok: [{ status: 200, description: 'Deleted.', body: 'AdminDeleteReply' }], errors: [400, ...AUTH, 404, 409, ...FAULT] }),
    admin({ method: 'get', path: '/v1/admin/zones', operationId: 'adminListZones', summary: 'Every zone, or one city\'s',
      params: [{ name: 'city', in: 'query', schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' }, description: 'Only this city\'s zones.' }],
      ok: [{ status: 200, description: 'The catalog version and each zone with its own.', body: 'AdminZoneList' }], errors: [400, ...AUTH, ...FAULT] }),
    admin({ method: 'get', path: '/v1/admin/zones/{id}', operationId: 'adminGetZone', summary: 'Read a zone', params: [zoneParam],
      ok: [{ status: 200, description: 'The zone and its version.', body: 'AdminZoneReply' }], errors: [400, ...AUTH, 404, ...FAULT] }),
    admin({ method: 'put', path: '/v1/admin/zones/{id}', operationId: 'adminPutZone', summary: 'Create or replace a zone (its polygon wholly inside its city)', description: ADMIN_NOTE,
      params: [zoneParam], requestBody: { type: 'AdminZoneRequest', required: true },
      ok: [{ status: 201, description: 'Created.', body: 'AdminZoneReply' }, { status: 200, description: 'Replaced.', body: 'AdminZoneReply' }],
      errors: [400, ...AUTH, 409, 413, ...FAULT] }),
    admin({ method: 'delete', path: '/v1/admin/zones/{id}', operationId: 'adminDeleteZone', summary: 'Delete a zone', description: ADMIN_NOTE, params: [zoneParam],
      ok: [{ status: 200, description: 'Deleted.', body: 'AdminDeleteReply' }], errors: [400, ...AUTH, 404, 409, ...FAULT] }),
    admin({ method: 'get', path: '/v1/admin/zones/{id}/queue', operationId: 'adminZoneQueue', summary: 'The airport queue of an airport_queue zone, in queue order',
      description: 'docs/protocol.md, "Airport queues". 404 for an unknown zone or one of another kind.',
      params: [zoneParam, intParam('limit', 'Most drivers (default 100).', 1, 1000), intParam('offset', 'Drivers skipped from the head (default 0).', 0, 1_000_000)],
      ok: [{ status: 200, description: 'The queue\'s length and its drivers from position offset + 1.', body: 'AdminZoneQueue' }], errors: [400, ...AUTH, 404, ...FAULT] }),
    admin({ method: 'get', path: '/v1/admin/changes', operationId: 'adminChanges', summary: 'The newest catalog changes, newest first (`doc` null for a delete)',
      params: [intParam('limit', 'Most changes (default 100).', 1, 1000)],
      ok: [{ status: 200, description: 'The changes.', body: 'AdminChangeList' }], errors: [400, ...AUTH, ...FAULT] }),
  ];
};

/** The routes, in the order docs/protocol.md lists them. */
export const OPERATIONS: Operation[] = [
  wsUpgrade('driver'),
  wsUpgrade('rider'),
  wsUpgrade('ops'),
  {
    method: 'post', path: '/v1/jobs', operationId: 'createJob', tags: ['jobs'], roles: ['rider'],
    summary: 'Request a ride',
    description: 'Dispatch starts at once, so the reply may already say `unfulfilled`. Rate-limited per rider and per client address (429 with Retry-After); a rider holding TAXIWAY_MAX_OPEN_JOBS_PER_RIDER live jobs gets 409.',
    requestBody: { type: 'JobCreateRequest', required: true },
    ok: [jobRecordOk(201, 'The new job.')],
    errors: [400, ...AUTH, 409, 413, 421, 429, ...FAULT],
  },
  jobList('get'),
  jobList('head'),
  {
    method: 'get', path: '/v1/jobs/{id}', operationId: 'getJob', tags: ['jobs'], roles: ['rider', 'driver', 'ops'],
    summary: 'Read a job (its rider, its current driver, or ops)',
    params: [jobId], ok: [jobRecordOk(200, 'The job.')], errors: [400, ...AUTH, 404, ...FAULT],
  },
  {
    method: 'post', path: '/v1/jobs/{id}/cancel', operationId: 'cancelJob', tags: ['jobs'], roles: ['rider'],
    summary: 'Cancel your job (not once in progress or final: 409)',
    params: [jobId], ok: [jobRecordOk(200, 'The cancelled job.')], errors: [400, ...AUTH, 404, 409, 413, 429, ...FAULT],
  },
  {
    method: 'get', path: '/v1/drivers/nearby', operationId: 'nearbyDrivers', tags: ['drivers'], roles: ['rider', 'ops'],
    summary: 'Available drivers with a fresh fix near a point, nearest first',
    params: [
      { name: 'lat', in: 'query', required: true, schema: { type: 'number', minimum: -90, maximum: 90 }, description: 'Latitude, degrees.' },
      { name: 'lng', in: 'query', required: true, schema: { type: 'number', minimum: -180, maximum: 180 }, description: 'Longitude, degrees.' },
      { name: 'radius_m', in: 'query', schema: { type: 'number', minimum: 1, maximum: 50000 }, description: 'Search radius, metres (default: the search radius).' },
      intParam('limit', 'Most drivers (default 10).', 1, 100),
      { name: 'product', in: 'query', schema: { type: 'string', pattern: '^[a-z0-9_-]{1,32}$' }, description: 'Only drivers serving this product (taxiway extension).' },
    ],
    ok: [{ status: 200, description: 'The drivers; `city` null outside every served city.', body: 'NearbyReply' }],
    errors: [400, ...AUTH, 421, ...FAULT],
  },
  {
    method: 'get', path: '/v1/drivers/{id}/track', operationId: 'driverTrack', tags: ['drivers'], roles: ['ops', 'driver'],
    summary: 'Stored fixes of a driver, oldest first (ops, or the driver itself)',
    params: [
      { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'Driver id.' },
      intParam('from', 'From this time, ms since the epoch, inclusive (default 0).', 0, 8.64e15),
      intParam('to', 'To this time, ms, exclusive (default now + 60 s).', 0, 8.64e15),
      intParam('limit', 'Most points (default and max 10,000).', 1, 10000),
    ],
    ok: [{ status: 200, description: 'One page; `next` is the `from` of the following one.', body: 'TrackReply' }],
    errors: [400, ...AUTH, ...FAULT],
  },
  {
    method: 'get', path: '/v1/eta', operationId: 'eta', tags: ['eta'], roles: ['driver', 'rider', 'ops'],
    summary: 'Estimated time and road distance between two points',
    params: [latLngParam('from', 'Start'), latLngParam('to', 'End'), { name: 'at', in: 'query', schema: { type: 'string' }, description: 'Departure time, ISO-8601 (starting YYYY-MM-DD); default now.' }],
    ok: [{ status: 200, description: 'The estimate.', body: 'EtaReply' }],
    errors: [400, ...AUTH, 421, ...FAULT],
  },
  experiments('get'),
  experiments('head'),
  ...adminRoutes(),
  ...health('get'),
  ...health('head'),
  {
    method: 'get', path: '/openapi.json', operationId: 'openapi', tags: ['operations'], roles: null, extension: true,
    summary: 'This document (OpenAPI 3.1)',
    ok: [{ status: 200, description: 'docs/openapi.json.', content: { 'application/json': { schema: { type: 'object' } } } }],
    errors: [404],
  },
  staticFile('/', 'dashboardRoot', 'text/html', 'The ops dashboard page'),
  staticFile('/dashboard', 'dashboard', 'text/html', 'The ops dashboard page'),
  staticFile('/dashboard.css', 'dashboardStyle', 'text/css', 'The ops dashboard stylesheet'),
  staticFile('/dashboard.js', 'dashboardScript', 'text/javascript', 'The ops dashboard script'),
  ...['msgpack', 'map', 'jobs', 'kpis', 'driver-detail'].map((m) =>
    staticFile(`/dashboard/${m}.js`, `dashboardModule${m.replace(/(^|-)(.)/g, (_x, _d, c: string) => c.toUpperCase())}`, 'text/javascript', `A script of the ops dashboard (${m})`)),
  ...['client', 'protocol', 'msgpackr'].map((dir) => ({
    ...staticFile(`/sdk/${dir}/{file}`, `sdk${dir[0]!.toUpperCase()}${dir.slice(1)}Module`, 'text/javascript', `The client SDK for browsers: a module of /sdk/${dir}/`),
    params: [{ name: 'file', in: 'path' as const, required: true, schema: { type: 'string', pattern: '^[a-z0-9-]+\\.js$' }, description: 'A module file name.' }],
    description: 'Served when the build ships it (taxiway/client compiled; msgpackr\'s browser build for the import map); otherwise 404.',
  })),
  staticFile('/examples/browser-rider.html', 'browserRiderExample', 'text/html', 'An example rider page on the client SDK'),
  {
    method: 'get', path: '/dashboard/cities.json', operationId: 'dashboardCities', tags: ['dashboard'], roles: null, extension: true,
    summary: 'The served cities, for the dashboard\'s city selector',
    ok: [{ status: 200, description: 'Each city\'s name and boundary (a GeoJSON Polygon or MultiPolygon, null for a catch-all city).', content: { 'application/json': { schema: {
      type: 'object', required: ['cities'], additionalProperties: false,
      properties: { cities: { type: 'array', items: { type: 'object', required: ['name', 'boundary'], additionalProperties: false, properties: { name: { type: 'string' }, boundary: { type: ['object', 'null'] } } } } },
    } } } }],
    errors: [404],
  },
  {
    method: 'get', path: '/dashboard/roads.json', operationId: 'dashboardRoads', tags: ['dashboard'], roles: null, extension: true,
    summary: 'Road backdrop of the dashboard: one flat [lng, lat, lng, lat, ...] array per road',
    description: 'Only when the node was started with TAXIWAY_DASHBOARD_ROADS; otherwise 404.',
    ok: [{ status: 200, description: 'The roads.', content: { 'application/json': { schema: { type: 'array', items: { type: 'array', items: { type: 'number' } } } } } }],
    errors: [404],
  },
];
