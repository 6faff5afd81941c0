// The city schema (`CityDef`) and its validation, shared by the cities file and the admin API, every error naming the field.
import fs from 'node:fs';
import path from 'node:path';
import { kinks } from '@turf/turf';
import type { MultiPolygon, Polygon, Position } from 'geojson';
import { DEFAULT_PRODUCT, PRODUCT_PATTERN, checkProductList } from '../protocol/products.js';
import { ConfigError } from './config-error.js';
import { DISPATCH_ENV } from './dispatch-settings.js';
import { parseExperiments } from './experiments.js';
import type { DispatchSettings } from './dispatch-settings.js';
import type { CityDef, CityDispatch, DriverAppOverrides } from '../protocol/catalog-docs.js';
import { SETTINGS, checkNumber } from './settings.js';
import type { NumberSetting } from './settings.js';

/** The city document's types live in the protocol (src/protocol/catalog-docs.ts): the admin API's bodies are these. */
export type { CityDef, CityDispatch, DriverAppOverrides };

/** Driver states a fix interval is set for (the driver's `status`: `busy` is on an offer's job or a trip). */
export const DRIVER_APP_STATES = ['available', 'busy', 'offline'] as const;
export type DriverAppState = (typeof DRIVER_APP_STATES)[number];

/** How a city is checked: the cities file allows `eta` seed paths (relative to `dir`); the admin API does not. */
export interface CityParseOptions {
  /** Folder of the cities file, for `eta` seed paths; absent: `eta` is refused (the admin API). */
  dir?: string;
  /**
   * Shortest fix interval a city may ask of its drivers, ms: the fix budget must cover it
   * (1000 / TAXIWAY_FIX_BUDGET_RATE); absent: only the setting's own range applies.
   */
  minFixIntervalMs?: number;
}

/** Without a cities file: one catch-all city in UTC. */
export const WORLD_CITY: CityDef = { name: 'world', timezone: 'UTC', boundary: null };

const CITY_KEYS = new Set(['name', 'timezone', 'boundary', 'dispatch', 'eta', 'products', 'defaultProduct', 'experiments', 'driverApp']);

/** City names (and zone ids): 1-64 of A-Z a-z 0-9 _ -, safe in URLs and Redis keys. */
export const CITY_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Read and validate a cities file `{"cities": [...]}`. Every city needs a `name`, an IANA `timezone` and a
 * `boundary` (a valid GeoJSON Polygon or MultiPolygon, or `null` for the single catch-all city).
 * Throws ConfigError naming the file and the field.
 */
export function loadCities(file: string, opts: { minFixIntervalMs?: number } = {}): CityDef[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`TAXIWAY_CITIES=${file}: ${(e as Error).message}`);
  }
  const list = (parsed as { cities?: unknown } | null)?.cities;
  if (!Array.isArray(list) || list.length === 0) throw new ConfigError(`TAXIWAY_CITIES=${file}: expected {"cities": [...]} with at least one city`);
  const names = new Set<string>();
  let catchAll: string | null = null;
  return list.map((raw: unknown, i: number) => {
    const where = `TAXIWAY_CITIES=${file}: cities[${i}]`;
    const city = parseCity(raw, where, { dir: path.dirname(file), minFixIntervalMs: opts.minFixIntervalMs });
    if (names.has(city.name)) throw new ConfigError(`${where}.name ${city.name} is used twice`);
    names.add(city.name);
    if (city.boundary === null) {
      if (catchAll !== null) throw new ConfigError(`${where}.boundary: only one city may have a null boundary (the catch-all); ${catchAll} already has`);
      catchAll = city.name;
    }
    return city;
  });
}

/**
 * Check one city (from the cities file or an admin API body) field by field; `where` prefixes every
 * error's field path (e.g. `cities[0]` or `city`). Throws ConfigError naming the field. Checks the city
 * alone: rules across cities (unique names, one catch-all) are the caller's.
 */
export function parseCity(raw: unknown, where: string, opts: CityParseOptions = {}): CityDef {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${where} must be an object`);
  const c = raw as Record<string, unknown>;
  for (const k of Object.keys(c)) if (!CITY_KEYS.has(k)) throw new ConfigError(`${where}.${k} is not a city field (${[...CITY_KEYS].join(', ')})`);
  if (typeof c.name !== 'string' || !CITY_NAME_PATTERN.test(c.name)) throw new ConfigError(`${where}.name must be 1-64 of A-Z a-z 0-9 _ -`);
  const city: CityDef = { name: c.name, timezone: parseTimezone(c.timezone, `${where}.timezone`), boundary: parseBoundary(c.boundary, `${where}.boundary`) };
  if (c.dispatch !== undefined) city.dispatch = parseDispatch(c.dispatch, `${where}.dispatch`);
  if (c.eta !== undefined) {
    if (opts.dir === undefined) throw new ConfigError(`${where}.eta: ETA seed files are set in the cities file only`);
    city.eta = parseEta(c.eta, `${where}.eta`, opts.dir);
  }
  parseProducts(c, city, where);
  if (c.experiments !== undefined) city.experiments = parseExperiments(c.experiments, `${where}.experiments`);
  if (c.driverApp !== undefined) city.driverApp = parseDriverApp(c.driverApp, `${where}.driverApp`, opts.minFixIntervalMs);
  return city;
}

/** `driverApp`: `fixIntervalMs` per driver state, each in TAXIWAY_FIX_INTERVAL_MS's range and not below what the fix budget covers. */
function parseDriverApp(d: unknown, where: string, minFixIntervalMs = 0): DriverAppOverrides {
  if (typeof d !== 'object' || d === null || Array.isArray(d)) throw new ConfigError(`${where} must be an object`);
  const out: DriverAppOverrides = {};
  for (const [k, v] of Object.entries(d)) {
    if (k !== 'fixIntervalMs') throw new ConfigError(`${where}.${k} is not a driver-app setting (fixIntervalMs)`);
    const at = `${where}.fixIntervalMs`;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${at} must be an object of ms per driver state (${DRIVER_APP_STATES.join(', ')})`);
    const iv: Partial<Record<DriverAppState, number>> = {};
    for (const [state, ms] of Object.entries(v)) {
      if (!(DRIVER_APP_STATES as readonly string[]).includes(state)) throw new ConfigError(`${at}.${state} is not a driver state (${DRIVER_APP_STATES.join(', ')})`);
      checkNumber(ms, SETTINGS.TAXIWAY_FIX_INTERVAL_MS, () => `${at}.${state}=${JSON.stringify(ms)}`);
      if ((ms as number) < minFixIntervalMs) throw new ConfigError(`${at}.${state}=${ms}: below ${minFixIntervalMs} ms, the interval TAXIWAY_FIX_BUDGET_RATE covers`);
      iv[state as DriverAppState] = ms as number;
    }
    out.fixIntervalMs = iv;
  }
  return out;
}

/** `products` and `defaultProduct`: a valid list, and a default the list holds. */
function parseProducts(c: Record<string, unknown>, city: CityDef, where: string): void {
  if (c.products !== undefined) {
    const list = checkProductList(c.products);
    if (typeof list === 'string') throw new ConfigError(`${where}.products ${list}`);
    city.products = [...list];
  }
  if (c.defaultProduct !== undefined) {
    if (typeof c.defaultProduct !== 'string' || !PRODUCT_PATTERN.test(c.defaultProduct)) throw new ConfigError(`${where}.defaultProduct must be 1-32 of a-z 0-9 _ -`);
    city.defaultProduct = c.defaultProduct;
  }
  const def = city.defaultProduct ?? DEFAULT_PRODUCT;
  if (city.products && !city.products.includes(def)) {
    throw new ConfigError(`${where}.defaultProduct ${def} is not in its products (${city.products.join(', ')})${city.defaultProduct === undefined ? ': set defaultProduct' : ''}`);
  }
}

function parseTimezone(tz: unknown, where: string): string {
  if (tz === undefined) throw new ConfigError(`${where} is required: an IANA zone name such as "Europe/Paris"`);
  if (typeof tz !== 'string' || tz === '') throw new ConfigError(`${where} must be an IANA zone name such as "Europe/Paris"`);
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: tz });
  } catch {
    throw new ConfigError(`${where} ${JSON.stringify(tz)} is not a known IANA zone`);
  }
  return tz;
}

function parseBoundary(b: unknown, where: string): Polygon | MultiPolygon | null {
  if (b === undefined) throw new ConfigError(`${where} is required: a GeoJSON Polygon or MultiPolygon in [lng, lat] degrees, or null for the catch-all city`);
  if (b === null) return null;
  const g = b as { type?: unknown; coordinates?: unknown };
  if (typeof b !== 'object' || (g.type !== 'Polygon' && g.type !== 'MultiPolygon')) throw new ConfigError(`${where} must be a GeoJSON Polygon or MultiPolygon (or null for the catch-all city)`);
  if (g.type === 'Polygon') {
    checkPolygon(g.coordinates, `${where}.coordinates`);
    return { type: 'Polygon', coordinates: g.coordinates as Position[][] };
  }
  if (!Array.isArray(g.coordinates) || g.coordinates.length === 0) throw new ConfigError(`${where}.coordinates must be a non-empty array of polygons`);
  g.coordinates.forEach((p, i) => checkPolygon(p, `${where}.coordinates[${i}]`));
  return { type: 'MultiPolygon', coordinates: g.coordinates as Position[][][] };
}

/** A polygon: at least one ring; each ring closed, of at least 4 [lng, lat] positions in degrees; no edge crossing another. */
export function checkPolygon(rings: unknown, where: string): void {
  if (!Array.isArray(rings) || rings.length === 0) throw new ConfigError(`${where} must be a non-empty array of linear rings`);
  rings.forEach((ring: unknown, r) => {
    const at = `${where}[${r}]`;
    if (!Array.isArray(ring) || ring.length < 4) throw new ConfigError(`${at} must be a ring of at least 4 positions`);
    ring.forEach((p: unknown, k) => {
      const ok = Array.isArray(p) && p.length >= 2 && typeof p[0] === 'number' && typeof p[1] === 'number' &&
        p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90;
      if (!ok) throw new ConfigError(`${at}[${k}] must be [lng, lat] in degrees (lng -180..180, lat -90..90)`);
    });
    const first = ring[0] as number[];
    const last = ring[ring.length - 1] as number[];
    if (first[0] !== last[0] || first[1] !== last[1]) throw new ConfigError(`${at} is not closed: its last position must equal its first`);
  });
  // A self-intersecting ring (a bow tie) has no clear inside: point-in-polygon answers would be arbitrary.
  const crossings = kinks({ type: 'Polygon', coordinates: rings as Position[][] });
  const k = crossings.features[0]?.geometry.coordinates;
  if (k) throw new ConfigError(`${where} intersects itself (at [${k[0]}, ${k[1]}])`);
}

function parseDispatch(d: unknown, where: string): CityDispatch {
  if (typeof d !== 'object' || d === null || Array.isArray(d)) throw new ConfigError(`${where} must be an object`);
  const out: CityDispatch = {};
  for (const [k, v] of Object.entries(d)) {
    if (k === 'policy') {
      if (typeof v !== 'string' || v === '') throw new ConfigError(`${where}.policy must be the name of a dispatch policy`);
      out.policy = v;
      continue;
    }
    if (!(k in DISPATCH_ENV)) throw new ConfigError(`${where}.${k} is not a dispatch setting (policy, ${Object.keys(DISPATCH_ENV).join(', ')})`);
    const key = k as keyof DispatchSettings;
    const s: NumberSetting = SETTINGS[DISPATCH_ENV[key]];
    checkNumber(v, s, () => `${where}.${k}=${JSON.stringify(v)}`);
    out[key] = v;
  }
  return out;
}

function parseEta(eta: unknown, where: string, dir: string): NonNullable<CityDef['eta']> {
  if (typeof eta !== 'object' || eta === null || Array.isArray(eta)) throw new ConfigError(`${where} must be an object`);
  const out: NonNullable<CityDef['eta']> = {};
  for (const [k, v] of Object.entries(eta)) {
    if (k !== 'seedTrips' && k !== 'seedTraces') throw new ConfigError(`${where}.${k} is not an ETA setting (seedTrips, seedTraces)`);
    if (typeof v !== 'string') throw new ConfigError(`${where}.${k} must be a path`);
    if (!fs.existsSync(path.resolve(dir, v))) throw new ConfigError(`${where}.${k}: ${v} not found (relative to ${dir})`);
    out[k] = v;
  }
  return out;
}

/** Per-city numeric dispatch overrides from the cities file, by city name (cities without any are left out). */
export function cityDispatchOverrides(cities: readonly CityDef[]): Map<string, Partial<DispatchSettings>> {
  const m = new Map<string, Partial<DispatchSettings>>();
  for (const c of cities) {
    if (!c.dispatch) continue;
    const { policy: _policy, ...numbers } = c.dispatch;
    if (Object.keys(numbers).length) m.set(c.name, numbers);
  }
  return m;
}
