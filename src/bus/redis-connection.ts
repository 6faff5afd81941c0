// ioredis connections of cluster mode, all built from one RedisTarget: REDIS_URL, a Sentinel-watched primary or a Redis Cluster.
import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import type { RedisTarget } from '../config/redis-settings.js';
import type { Logger } from '../observability/logger.js';
import { hashSlot } from '../storage/redis-keys.js';

/**
 * A connection of cluster mode: one Redis (REDIS_URL, Sentinel) or an ioredis Cluster (REDIS_CLUSTER_NODES),
 * which routes each command by its keys' slot. Adapters take either: every multi-key command and script
 * they send keeps its keys in one slot (`storage/redis-keys.ts`).
 */
export type RedisClient = Redis | Cluster;

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
  if (target.kind === 'cluster') return { ...opts, password: target.password, ...(target.tls ? { tls: {} } : {}) };
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

/**
 * ioredis Cluster options for REDIS_CLUSTER_NODES: each node connection with `redisOptions`; the slot map
 * refreshed on MOVED and every 5 s. A node whose connection drops leaves the pool (ioredis's default: no
 * `clusterNodeRetryStrategy`), so after a primary's death the slot map is reloaded and its replica takes
 * the commands; with a per-node retry strategy the commands queued for the dead node waited forever
 * (seen in test/job-repo-cluster.test.ts). `sharded` (a bus subscriber) opens one sharded-subscriber connection
 * per primary, for SSUBSCRIBE (Redis ≥ 7), restored by ioredis after a failover or a slot move.
 */
export function clusterOptions(target: RedisTarget, name: string, blocking = false, sharded = false): ClusterOptions {
  return {
    redisOptions: redisOptions(target, name, blocking),
    enableReadyCheck: true,
    maxRedirections: 16,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    slotsRefreshInterval: 5000,
    clusterRetryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    shardedSubscribers: sharded,
  };
}

/**
 * A new connection to `target` (see `redisOptions`), logging when it goes down and comes back. `sharded`:
 * on a Redis Cluster, a subscriber for sharded pub/sub (SSUBSCRIBE); elsewhere no difference.
 */
export function redisConnection(target: RedisTarget, logger: Logger, name: string, blocking = false, sharded = false): RedisClient {
  const r: RedisClient = target.kind === 'cluster'
    ? new Cluster(target.nodes.map((n) => ({ host: n.host, port: n.port })), clusterOptions(target, name, blocking, sharded))
    : target.kind === 'url' ? new Redis(target.url, redisOptions(target, name, blocking)) : new Redis(redisOptions(target, name, blocking));
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
export function waitReady(r: RedisClient, timeoutMs = 10_000): Promise<void> {
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

/** The connection (on a Cluster: the cluster's connection) to the primary that holds `key`'s slot; `r` itself for one Redis. */
export function nodeOfKey(r: RedisClient, key: string): Redis | null {
  if (!(r instanceof Cluster)) return r;
  const owner = r.slots[hashSlot(key)]?.[0];
  if (owner === undefined) return null;
  return r.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner) ?? null;
}

/**
 * Up when the connection answers PING within `timeoutMs` (ms). A connection between primaries (a
 * failover) queues the PING until it is back, so this is false for as long as the gap lasts past `timeoutMs`.
 */
export async function redisHealthy(r: RedisClient, timeoutMs = 1000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
    // On a Cluster every primary must answer: a city whose shard is down is down.
    const pings = r instanceof Cluster ? r.nodes('master').map((n) => n.ping()) : [r.ping()];
    if (pings.length === 0) return false;
    const answers = await Promise.race([Promise.all(pings), late]);
    return Array.isArray(answers) && answers.every((a) => a === 'PONG');
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
