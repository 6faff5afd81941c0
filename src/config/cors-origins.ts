// TAXIWAY_CORS_ORIGINS: which browser origins may call the HTTP API cross-origin, checked at startup.
import { ConfigError } from './config-error.js';

/** `*`, or a comma-separated list of exact origins (scheme://host[:port], no path); empty: none (no CORS headers). */
export function corsOrigins(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  const list = raw.split(',').map((o) => o.trim()).filter((o) => o !== '');
  if (list.includes('*')) {
    if (list.length > 1) throw new ConfigError(`TAXIWAY_CORS_ORIGINS=${JSON.stringify(raw)}: "*" allows every origin and cannot be combined with others`);
    return ['*'];
  }
  for (const o of list) {
    let origin: string;
    try {
      origin = new URL(o).origin;
    } catch {
      origin = 'null';
    }
    if (origin === 'null' || origin !== o) {
      throw new ConfigError(`TAXIWAY_CORS_ORIGINS: ${JSON.stringify(o)} is not an exact origin (expected scheme://host[:port] with no path or trailing slash, e.g. https://app.example.com)`);
    }
  }
  return list;
}
