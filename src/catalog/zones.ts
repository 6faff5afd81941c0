// Zones: named polygons inside a city with a kind (airport queue, no pickup, info); their schema and field-by-field check.
import { booleanWithin } from '@turf/turf';
import type { Polygon, Position } from 'geojson';
import { CITY_NAME_PATTERN, checkPolygon } from '../config/cities.js';
import type { CityDef } from '../config/cities.js';
import { ConfigError } from '../config/config-error.js';
import { ZONE_KINDS } from '../protocol/catalog-docs.js';
import type { ZoneDef, ZoneKind } from '../protocol/catalog-docs.js';

/** The zone document's types live in the protocol (src/protocol/catalog-docs.ts): the admin API's bodies are these. */
export { ZONE_KINDS };
export type { ZoneDef, ZoneKind };

const ZONE_KEYS = new Set(['id', 'city', 'kind', 'name', 'polygon']);

/**
 * Check one zone field by field (`where` prefixes every field path, e.g. `zone`); throws ConfigError
 * naming the field. Whether its city exists and holds the polygon is checked against the catalog
 * (`zoneFitsCity`).
 */
export function parseZone(raw: unknown, where: string): ZoneDef {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${where} must be an object`);
  const z = raw as Record<string, unknown>;
  for (const k of Object.keys(z)) if (!ZONE_KEYS.has(k)) throw new ConfigError(`${where}.${k} is not a zone field (${[...ZONE_KEYS].join(', ')})`);
  if (typeof z.id !== 'string' || !CITY_NAME_PATTERN.test(z.id)) throw new ConfigError(`${where}.id must be 1-64 of A-Z a-z 0-9 _ -`);
  if (typeof z.city !== 'string' || !CITY_NAME_PATTERN.test(z.city)) throw new ConfigError(`${where}.city must be a city name (1-64 of A-Z a-z 0-9 _ -)`);
  if (typeof z.kind !== 'string' || !(ZONE_KINDS as readonly string[]).includes(z.kind)) throw new ConfigError(`${where}.kind must be one of ${ZONE_KINDS.join(', ')}`);
  const zone: ZoneDef = { id: z.id, city: z.city, kind: z.kind as ZoneKind, polygon: parsePolygon(z.polygon, `${where}.polygon`) };
  if (z.name !== undefined) {
    if (typeof z.name !== 'string' || z.name.length > 200) throw new ConfigError(`${where}.name must be a string of at most 200 characters`);
    zone.name = z.name;
  }
  return zone;
}

function parsePolygon(p: unknown, where: string): Polygon {
  if (p === undefined) throw new ConfigError(`${where} is required: a GeoJSON Polygon in [lng, lat] degrees`);
  const g = p as { type?: unknown; coordinates?: unknown } | null;
  if (typeof p !== 'object' || g === null || g.type !== 'Polygon') throw new ConfigError(`${where} must be a GeoJSON Polygon`);
  checkPolygon(g.coordinates, `${where}.coordinates`);
  return { type: 'Polygon', coordinates: g.coordinates as Position[][] };
}

/** True when `city`'s boundary holds the whole zone polygon (a catch-all city holds everything). */
export function zoneFitsCity(polygon: Polygon, city: CityDef): boolean {
  return city.boundary === null || booleanWithin(polygon, city.boundary);
}
