// REDIS_URL: checked at load (scheme and host), so a wrong value stops the start at once with one line.
import { ConfigError } from './config-error.js';

/** The URL with its password hidden, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** `url` if it is a `redis:` or `rediss:` URL with a host; otherwise a ConfigError naming REDIS_URL. */
export function checkRedisUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`REDIS_URL=${redactUrl(url)}: not a URL (expected redis://[user:password@]host[:port][/db] or rediss://...)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new ConfigError(`REDIS_URL=${redactUrl(url)}: scheme ${u.protocol} is not redis: or rediss: (expected redis://host[:port][/db])`);
  }
  if (!u.hostname) throw new ConfigError(`REDIS_URL=${redactUrl(url)}: no host (expected redis://host[:port][/db])`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,5}$/.test(db)) throw new ConfigError(`REDIS_URL=${redactUrl(url)}: the path must be a database number, got /${db}`);
  return url;
}
