// Redis node registry: one hash, node id → JSON entry; expired entries are deleted by the readers.
import type { RedisClient } from './redis-connection.js';
import { RedisKeys } from '../storage/redis-keys.js';
import type { NodeEntry, NodeRegistry } from './node-registry.js';

/**
 * The registry's one key. A single key (one hash slot) on purpose: every node reads all of it at each
 * heartbeat; the name is built here only, so a Redis Cluster hash tag can be added in one place.
 */
export function nodeRegistryKey(prefix: string): string {
  return new RedisKeys(prefix).nodeRegistry();
}

export class RedisNodeRegistry implements NodeRegistry {
  private readonly key: string;

  constructor(private readonly redis: RedisClient, prefix: string, private readonly ttlMs: number) {
    this.key = nodeRegistryKey(prefix);
  }

  async announce(e: NodeEntry): Promise<void> {
    await this.redis.hset(this.key, e.nodeId, JSON.stringify({ url: e.url, cities: e.cities, ts: e.ts }));
  }

  async remove(nodeId: string): Promise<void> {
    await this.redis.hdel(this.key, nodeId);
  }

  async nodes(now: number): Promise<NodeEntry[]> {
    const all = await this.redis.hgetall(this.key);
    const out: NodeEntry[] = [];
    const gone: string[] = [];
    for (const [nodeId, raw] of Object.entries(all)) {
      const e = parseEntry(nodeId, raw);
      if (!e || e.ts < now - this.ttlMs) gone.push(nodeId);
      else out.push(e);
    }
    // An entry may be renewed between the read and this delete: its node writes it again at its next heartbeat.
    if (gone.length > 0) await this.redis.hdel(this.key, ...gone);
    return out;
  }

  async close(): Promise<void> {}
}

/** An entry as stored, or null when it is not one (written by something else: dropped). */
function parseEntry(nodeId: string, raw: string): NodeEntry | null {
  try {
    const v = JSON.parse(raw) as { url?: unknown; cities?: unknown; ts?: unknown };
    if (typeof v.url !== 'string' || typeof v.ts !== 'number' || !Array.isArray(v.cities) || !v.cities.every((c) => typeof c === 'string')) return null;
    return { nodeId, url: v.url, cities: v.cities as string[], ts: v.ts };
  } catch {
    return null;
  }
}
