// Main-thread side of off-thread index rebuilds: one worker (WorkerRpc), a promise per build.
import { WorkerRpc } from '../util/worker-rpc.js';
import type { BuildRequest, BuildResult } from './index-worker.js';

/**
 * Builds kdbush snapshots on a worker thread so a large city's rebuild (a sort of every driver, ~10-30 ms
 * at 50,000) never stalls the event loop; the main thread only copies positions in and swaps the result
 * in (linear passes). If the worker dies, pending and later builds reject and callers rebuild in place.
 */
export class IndexBuilder {
  private readonly rpc = new WorkerRpc<BuildRequest, BuildResult>(new URL('./index-worker.js', import.meta.url), 'index worker');

  /** Build an index over `n` drivers ([lng, lat, slot] per driver in `input`). */
  build(input: SharedArrayBuffer, n: number, nodeSize: number): Promise<BuildResult> {
    return this.rpc.call({ n, nodeSize, input });
  }

  /** Stop the worker; pending builds reject. */
  close(): Promise<void> {
    return this.rpc.close();
  }
}
