// Node registry port: which nodes are alive, where clients reach them and which cities they serve. In-memory adapter here; Redis in redis-node-registry.ts.

/** One node's heartbeat: its id, public URL, served cities (`['*']`: every city) and the time it was written (ms since the epoch, the writer's clock). */
export interface NodeEntry {
  nodeId: string;
  url: string;
  cities: readonly string[];
  ts: number;
}

/**
 * Guarantees: `announce` replaces the node's entry (the newest write wins); `nodes(now)` lists every entry
 * written within the registry's TTL before `now` (older ones are gone, and may be deleted by any call);
 * `remove` deletes at once (a node that stops cleanly). Entries are compared by their `ts`, so the nodes'
 * clocks must agree to well within the TTL minus the heartbeat. Contract suite: test/contract/node-registry-contract.ts.
 */
export interface NodeRegistry {
  announce(e: NodeEntry): Promise<void>;
  remove(nodeId: string): Promise<void>;
  nodes(now: number): Promise<NodeEntry[]>;
  close(): Promise<void>;
}

/** Whether a node's entry says it serves `city`. */
export function entryServes(e: NodeEntry, city: string): boolean {
  return e.cities.includes('*') || e.cities.includes(city);
}

/** The entries, among `entries`, of nodes serving `city`. */
export function nodesServing(entries: readonly NodeEntry[], city: string): NodeEntry[] {
  return entries.filter((e) => entryServes(e, city));
}

/** The table every in-memory registry of one process shares when given the same one (embedded mode: one node; tests: several). */
export type MemoryNodeTable = Map<string, NodeEntry>;

export class MemoryNodeRegistry implements NodeRegistry {
  constructor(private readonly ttlMs: number, private readonly table: MemoryNodeTable = new Map()) {}

  async announce(e: NodeEntry): Promise<void> {
    this.table.set(e.nodeId, { ...e, cities: [...e.cities] });
  }

  async remove(nodeId: string): Promise<void> {
    this.table.delete(nodeId);
  }

  async nodes(now: number): Promise<NodeEntry[]> {
    const out: NodeEntry[] = [];
    for (const [id, e] of this.table) {
      if (e.ts < now - this.ttlMs) this.table.delete(id);
      else out.push({ ...e, cities: [...e.cities] });
    }
    return out;
  }

  async close(): Promise<void> {}
}
