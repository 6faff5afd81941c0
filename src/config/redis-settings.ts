// Where cluster mode's Redis is: REDIS_URL (one server), REDIS_SENTINELS + REDIS_SENTINEL_NAME (a Sentinel-watched
// primary) or REDIS_CLUSTER_NODES (a Redis Cluster).
import { ConfigError } from './config-error.js';
import type { EnvSource } from './config-error.js';
import { checkRedisUrl, redactUrl } from './redis-url.js';
import { SETTINGS, checkNumber, flagSetting, numberSetting } from './settings.js';

/** One Sentinel's address. */
export interface SentinelAddress {
  host: string;
  port: number;
}

/** How to reach Redis; every connection of a node is built from it (`bus/redis-connection.ts`). */
export type RedisTarget =
  | { kind: 'url'; url: string }
  | {
      kind: 'sentinel';
      sentinels: SentinelAddress[];
      /** The primary's name as the Sentinels monitor it (`sentinel monitor <name> ...`). */
      name: string;
      sentinelPassword?: string;
      /** Password of the primary and replicas. */
      password?: string;
      /** TLS to the Sentinels and to Redis. */
      tls: boolean;
    }
  | {
      kind: 'cluster';
      /** Seed nodes of the Redis Cluster (any few: the client learns the rest from them). */
      nodes: SentinelAddress[];
      /** Password of every cluster node. */
      password?: string;
      /** TLS to every cluster node. */
      tls: boolean;
    };

/** Durability asked of each job commit: WAIT for `replicas` replicas, at most `timeoutMs` (replicas 0: no WAIT). */
export interface CommitDurability {
  replicas: number;
  /** ms */
  timeoutMs: number;
}

/** The setting that names the target, for messages: `REDIS_URL=redis://***@h:6379` or `REDIS_SENTINELS=...`. */
export function describeTarget(t: RedisTarget): string {
  if (t.kind === 'url') return `REDIS_URL=${redactUrl(t.url)}`;
  if (t.kind === 'cluster') return `REDIS_CLUSTER_NODES=${t.nodes.map((s) => `${s.host}:${s.port}`).join(',')}`;
  return `REDIS_SENTINELS=${t.sentinels.map((s) => `${s.host}:${s.port}`).join(',')} (REDIS_SENTINEL_NAME=${t.name})`;
}

/** `host:port,...` → addresses; ConfigError naming `setting` (REDIS_SENTINELS) for an entry that is not host:port. */
export function parseSentinels(raw: string, setting = 'REDIS_SENTINELS', example = '10.0.0.1:26379,10.0.0.2:26379'): SentinelAddress[] {
  const out: SentinelAddress[] = [];
  for (const part of raw.split(',').map((s) => s.trim())) {
    // host:port, or [v6]:port
    const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(part);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port < 1 || port > 65535) {
      throw new ConfigError(`${setting}=${raw}: "${part}" is not host:port (expected host:port[,host:port...], e.g. ${example})`);
    }
    out.push({ host: m[1]!.replace(/^\[|\]$/g, ''), port });
  }
  return out;
}

/**
 * The Redis target of cluster mode, or undefined (embedded mode) when none of REDIS_URL, REDIS_SENTINELS
 * and REDIS_CLUSTER_NODES is set. Two of them set, a Sentinel list without a name, or a Sentinel-only
 * setting beside REDIS_URL or REDIS_CLUSTER_NODES: ConfigError naming the settings.
 */
export function redisTargetFromEnv(src: EnvSource): RedisTarget | undefined {
  const url = src.REDIS_URL || undefined;
  const sentinels = src.REDIS_SENTINELS || undefined;
  const clusterNodes = src.REDIS_CLUSTER_NODES || undefined;
  if (clusterNodes) {
    const other = url ? 'REDIS_URL' : sentinels ? 'REDIS_SENTINELS' : null;
    if (other) throw new ConfigError(`REDIS_CLUSTER_NODES and ${other} are both set: set one (REDIS_URL for one Redis server, REDIS_SENTINELS for Sentinel, REDIS_CLUSTER_NODES for a Redis Cluster)`);
    for (const only of ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD'] as const) {
      if (src[only]) throw new ConfigError(`${only} is set with REDIS_CLUSTER_NODES: ${only} applies to Sentinel only`);
    }
    return {
      kind: 'cluster',
      nodes: parseSentinels(clusterNodes, 'REDIS_CLUSTER_NODES', '10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379'),
      password: src.REDIS_PASSWORD || undefined,
      tls: flagSetting(src, 'REDIS_TLS'),
    };
  }
  if (url && sentinels) throw new ConfigError('REDIS_URL and REDIS_SENTINELS are both set: set one (REDIS_URL for one Redis server, REDIS_SENTINELS with REDIS_SENTINEL_NAME for Sentinel)');
  const tls = flagSetting(src, 'REDIS_TLS');
  if (url) {
    for (const only of ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD'] as const) {
      if (src[only]) throw new ConfigError(`${only} is set but REDIS_SENTINELS is not: ${only} applies to Sentinel only`);
    }
    if (src.REDIS_PASSWORD) throw new ConfigError('REDIS_PASSWORD is set with REDIS_URL: put the password in the URL (redis://:password@host:port)');
    if (tls) throw new ConfigError('REDIS_TLS=1 is set with REDIS_URL: use a rediss:// URL');
    return { kind: 'url', url: checkRedisUrl(url) };
  }
  if (!sentinels) {
    if (src.REDIS_SENTINEL_NAME) throw new ConfigError('REDIS_SENTINEL_NAME is set but REDIS_SENTINELS is not: list the Sentinels (host:port,...)');
    return undefined;
  }
  const name = src.REDIS_SENTINEL_NAME;
  if (!name) throw new ConfigError('REDIS_SENTINELS is set but REDIS_SENTINEL_NAME is not: name the primary the Sentinels monitor');
  if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(name)) throw new ConfigError(`REDIS_SENTINEL_NAME=${name}: expected 1 to 100 of A-Z a-z 0-9 _ . : -`);
  return {
    kind: 'sentinel',
    sentinels: parseSentinels(sentinels),
    name,
    sentinelPassword: src.REDIS_SENTINEL_PASSWORD || undefined,
    password: src.REDIS_PASSWORD || undefined,
    tls,
  };
}

/** Largest TAXIWAY_REDIS_WAIT_REPLICAS. */
const MAX_WAIT_REPLICAS = 16;

/**
 * TAXIWAY_REDIS_WAIT_REPLICAS (default: 1 through Sentinel and on a Redis Cluster, 0 with REDIS_URL, where
 * a lone server has no replica to wait for) and TAXIWAY_REDIS_WAIT_MS. On a Cluster the WAIT goes to the
 * primary that took the write (the slot's owner), so it counts that shard's replicas.
 */
export function commitDurabilityFromEnv(src: EnvSource, target: RedisTarget | undefined): CommitDurability {
  const raw = src.TAXIWAY_REDIS_WAIT_REPLICAS;
  let replicas = target !== undefined && target.kind !== 'url' ? 1 : 0;
  if (raw !== undefined && raw !== '') {
    replicas = Number(raw);
    checkNumber(replicas, { kind: 'int', def: 0, min: 0, max: MAX_WAIT_REPLICAS, doc: SETTINGS.TAXIWAY_REDIS_WAIT_REPLICAS.doc }, () => `TAXIWAY_REDIS_WAIT_REPLICAS=${JSON.stringify(raw)}`);
  }
  return { replicas, timeoutMs: numberSetting(src, 'TAXIWAY_REDIS_WAIT_MS') };
}

/**
 * TAXIWAY_REDIS_PREFIX, checked: no `{` or `}`. Redis Cluster hashes only the first `{...}` of a key, and
 * taxiway places that tag itself (`storage/redis-keys.ts`); a brace in the prefix would put every key in
 * one slot, or in slots that no longer match the city.
 */
export function checkRedisPrefix(prefix: string): string {
  if (/[{}]/.test(prefix)) throw new ConfigError(`TAXIWAY_REDIS_PREFIX=${prefix}: must not contain { or } (taxiway places the Redis Cluster hash tags itself)`);
  return prefix;
}
