// Fleet mirror port: keeps every node's live fleet complete. No-op in embedded mode; Redis in redis-fleet-mirror.ts.

/**
 * Guarantees (Redis adapter): a local change of a driver (position, status, city) reaches every other
 * node within about one tick (100 ms) plus network time; changes are coalesced per tick (only the
 * newest state of a driver is sent); a change made before `stop()` still goes out; a node that starts
 * holds the current fleet (drivers heard from within the expiry) when `start()` resolves, before it
 * serves. Positions never move back in time on a receiving node, and a node sends only states it made
 * itself (never one it received: that could carry a status its origin has changed since). The no-op
 * adapter (one node) meets them trivially. Contract suite: test/contract/fleet-mirror-contract.ts.
 */
export interface FleetMirror {
  /** Load the shared fleet into the local registry and start mirroring. */
  start(): Promise<void>;
  /**
   * The fleet's city list changed (the catalog): start mirroring the served cities not mirrored yet
   * (their drivers are loaded, then their batches applied).
   */
  citiesChanged(): Promise<void>;
  stop(): Promise<void>;
  healthy(): Promise<boolean>;
}

export class NoopFleetMirror implements FleetMirror {
  async start(): Promise<void> {}
  async citiesChanged(): Promise<void> {}
  async stop(): Promise<void> {}
  async healthy(): Promise<boolean> {
    return true;
  }
}
