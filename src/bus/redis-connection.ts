// ioredis connections of cluster mode, all built from one RedisTarget: REDIS_URL or a Sentinel-watched primary.
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import type { RedisTarget } from '../config/redis-settings.js';
import type { Logger } from '../observability/logger.js';

/**
 * The ioredis options of every connection a node makes (commands, job commits, pub/sub, BullMQ queue and
 * worker, fleet mirror, ETA state). `blocking` connections (BullMQ workers, pub/sub subscribers) must not
 * cap retries per request. Reconnects forever with capped backoff: a Redis restart is survived, not fatal.
 *
 * Through Sentinel, each (re)connect asks the Sentinels for the current primary and checks its role, so
 * after a failover every connection lands on the new primary. `failoverDetector` subscribes to the
 * Sentinels' `+switch-master`, so a connection still open to a demoted primary (a partition, not a crash)
 * leaves it at once; a write refused with READONLY (a demoted primary) reconnects and is sent again.
 */
export function redisOptions(target: RedisTarget, name: string, blocking = false): RedisOptions {
  const opts: RedisOptions = {
    connectionName: `taxiway:${name}`,
    lazyConnect: false,
    enableReadyCheck: true,
    maxRetriesPerRequest: blocking ? null : 20,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  };
  if (target.kind === 'url') return opts;
  return {
    ...opts,
    sentinels: target.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: target.name,
    sentinelPassword: target.sentinelPassword,
    password: target.password,
    // Ask the next Sentinel quickly, but never spin: one round over all of them at most every second.
    sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
    failoverDetector: true,
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
    ...(target.tls ? { tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
  };
}

/** A new connection to `target` (see `redisOptions`), logging when it goes down and comes back. */
export function redisConnection(target: RedisTarget, logger: Logger, name: string, blocking = false): Redis {
  const opts = redisOptions(target, name, blocking);
  const r = target.kind === 'url' ? new Redis(target.url, opts) : new Redis(opts);
  let down = false;
  r.on('error', (err: Error) => {
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

/**
 * Up when the connection answers PING within `timeoutMs` (ms). A connection between primaries (a
 * failover) queues the PING until it is back, so this is false for as long as the gap lasts past `timeoutMs`.
 */
export async function redisHealthy(r: Redis, timeoutMs = 1000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
    return (await Promise.race([r.ping(), late])) === 'PONG';
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
