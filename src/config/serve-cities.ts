// Which cities this node serves (TAXIWAY_SERVE_CITIES) and where clients reach it (TAXIWAY_PUBLIC_URL).
import { CITY_NAME_PATTERN } from './cities.js';
import type { CityDef } from './cities.js';
import { ConfigError } from './config-error.js';
import type { EnvSource } from './config-error.js';

/**
 * The cities a node serves: every city (the default, cities created later through the admin API
 * included), or the named ones only (a city created later is served by the nodes that name it once they
 * restart with it, and by nodes serving all cities at once).
 */
export class ServedCities {
  private constructor(readonly all: boolean, private readonly names: ReadonlySet<string>) {}

  static everyCity(): ServedCities {
    return new ServedCities(true, new Set());
  }

  static listed(names: readonly string[]): ServedCities {
    return new ServedCities(false, new Set(names));
  }

  serves(city: string): boolean {
    return this.all || this.names.has(city);
  }

  /** The named cities ('*' for every city), as the node registry records them. */
  list(): readonly string[] {
    return this.all ? ['*'] : [...this.names];
  }
}

/** TAXIWAY_SERVE_CITIES: unset, empty or `*`: every city; else a comma list of city names (each checked against the cities at start). */
export function servedCitiesFromEnv(src: EnvSource): ServedCities {
  const raw = (src.TAXIWAY_SERVE_CITIES ?? '').trim();
  if (raw === '' || raw === '*') return ServedCities.everyCity();
  const names = raw.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!CITY_NAME_PATTERN.test(n)) throw new ConfigError(`TAXIWAY_SERVE_CITIES=${raw}: ${JSON.stringify(n)} is not a city name (1-64 of A-Z a-z 0-9 _ -, comma-separated)`);
  }
  if (new Set(names).size !== names.length) throw new ConfigError(`TAXIWAY_SERVE_CITIES=${raw}: a city is named twice`);
  return ServedCities.listed(names);
}

/**
 * Every city TAXIWAY_SERVE_CITIES names must exist (in the cities file or, in a cluster, the catalog):
 * a typo would otherwise leave the node serving nothing. ConfigError naming the setting.
 */
export function checkServedCities(served: ServedCities, cities: readonly CityDef[]): void {
  if (served.all) return;
  const known = new Set(cities.map((c) => c.name));
  const missing = served.list().filter((n) => !known.has(n));
  if (missing.length > 0) {
    throw new ConfigError(`TAXIWAY_SERVE_CITIES=${served.list().join(',')}: no city named ${missing.join(', ')} in the cities config (TAXIWAY_CITIES or the admin catalog); known: ${[...known].join(', ')}`);
  }
}

/** Longest TAXIWAY_PUBLIC_URL: it travels in a WebSocket close reason (at most 123 bytes with the city name). */
export const MAX_PUBLIC_URL_CHARS = 56;

/** TAXIWAY_PUBLIC_URL: http(s)://host[:port][/path] without a trailing slash; undefined when unset (derived from the listen address). */
export function publicUrlFromEnv(src: EnvSource): string | undefined {
  const raw = src.TAXIWAY_PUBLIC_URL;
  if (raw === undefined || raw === '') return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`TAXIWAY_PUBLIC_URL=${raw}: not a URL (expected http(s)://host[:port])`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`TAXIWAY_PUBLIC_URL=${raw}: expected an http:// or https:// URL`);
  if (u.search || u.hash || u.username) throw new ConfigError(`TAXIWAY_PUBLIC_URL=${raw}: no query, fragment or credentials`);
  const url = raw.replace(/\/+$/, '');
  if (url.length > MAX_PUBLIC_URL_CHARS) throw new ConfigError(`TAXIWAY_PUBLIC_URL=${raw}: at most ${MAX_PUBLIC_URL_CHARS} characters (it travels in a WebSocket close reason)`);
  return url;
}
