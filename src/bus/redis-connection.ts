// ioredis connections from REDIS_URL (Sentinel/TLS options ride on the URL or ioredis's own settings).
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger.js';

/**
 * A new connection. `blocking` connections (BullMQ workers, pub/sub subscribers) must not cap retries
 * per request. Reconnects forever with capped backoff: a Redis restart is survived, not fatal.
 */
export function redisConnection(url: string, logger: Logger, name: string, blocking = false): Redis {
  const opts: RedisOptions = {
    connectionName: `taxiway:${name}`,
    lazyConnect: false,
    enableReadyCheck: true,
    maxRetriesPerRequest: blocking ? null : 20,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  };
  const r = new Redis(url, opts);
  let down = false;
  r.on('error', (err) => {
    if (!down) logger.warn({ err: err.message, conn: name }, 'redis connection error');
    down = true;
  });
  r.on('ready', () => {
    if (down) logger.info({ conn: name }, 'redis connection restored');
    down = false;
  });
  return r;
}

/** Resolve once the connection is ready, or reject after `timeoutMs` (ms) with the last connection error in the message. */
export function waitReady(r: Redis, timeoutMs = 10_000): Promise<void> {
  if (r.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let last = '';
    const onError = (err: Error): void => {
      last = err.message;
    };
    r.on('error', onError);
    const t = setTimeout(() => {
      r.off('error', onError);
      reject(new Error(`not ready after ${timeoutMs} ms (status ${r.status}${last ? `, last error: ${last}` : ''})`));
    }, timeoutMs);
    r.once('ready', () => {
      clearTimeout(t);
      r.off('error', onError);
      resolve();
    });
  });
}
