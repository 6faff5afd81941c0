// This node's view of the node registry: heartbeats its own entry and keeps the others' in memory, so a redirect costs no Redis call.
import { nodesServing } from './node-registry.js';
import type { NodeEntry, NodeRegistry } from './node-registry.js';

export interface NodeDirectoryOptions {
  registry: NodeRegistry;
  /** This node's entry (its `ts` is set at each heartbeat). */
  self: () => Omit<NodeEntry, 'ts'>;
  /** How often the entry is written and the others read, ms. */
  heartbeatMs: number;
  onError: (err: unknown) => void;
  now?: () => number;
}

/**
 * Answers "where is `city` served?" from the entries read at the last heartbeat (at most one heartbeat
 * old). Several nodes serving a city are handed out in turn.
 */
export class NodeDirectory {
  private entries: NodeEntry[] = [];
  private timer: NodeJS.Timeout | null = null;
  private turn = 0;
  private readonly now: () => number;

  constructor(private readonly o: NodeDirectoryOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Write this node's entry and read the others once (the start waits for it), then every heartbeat. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch(this.o.onError), this.o.heartbeatMs);
  }

  async beat(): Promise<void> {
    const now = this.now();
    await this.o.registry.announce({ ...this.o.self(), ts: now });
    this.entries = await this.o.registry.nodes(now);
  }

  /** The URL of another node serving `city`, or undefined when none is known. */
  urlFor(city: string): string | undefined {
    const self = this.o.self().nodeId;
    const others = nodesServing(this.entries, city).filter((e) => e.nodeId !== self);
    if (others.length === 0) return undefined;
    return others[this.turn++ % others.length]!.url;
  }

  /** Every live entry as last read (ops and tests). */
  list(): readonly NodeEntry[] {
    return this.entries;
  }

  /** Stop heartbeating and remove this node's entry, so redirects stop naming it at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.o.registry.remove(this.o.self().nodeId).catch(this.o.onError);
  }
}
