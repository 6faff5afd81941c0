// Main-thread side of off-thread index rebuilds: one worker, requests answered in order, promises per build.
import { Worker } from 'node:worker_threads';
import type { BuildRequest, BuildResult } from './index-worker.js';

/**
 * Builds kdbush snapshots on a worker thread so a large city's rebuild (a sort of every driver, ~10-30 ms
 * at 50,000) never stalls the event loop; the main thread only copies positions in and swaps the result
 * in (linear passes). If the worker dies, pending and later builds reject and callers rebuild in place.
 */
export class IndexBuilder {
  private worker: Worker | null = null;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (r: BuildResult) => void; reject: (e: Error) => void }>();
  private failed: Error | null = null;

  /** Build an index over `n` drivers ([lng, lat, slot] per driver in `input`). */
  build(input: SharedArrayBuffer, n: number, nodeSize: number): Promise<BuildResult> {
    if (this.failed) return Promise.reject(this.failed);
    const w = this.ensure();
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const req: BuildRequest = { id, n, nodeSize, input };
      w.postMessage(req);
    });
  }

  /** Stop the worker; pending builds reject. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.fail(new Error('index builder closed'));
    if (w) await w.terminate();
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./index-worker.js', import.meta.url));
    w.unref(); // never keeps the process alive
    w.on('message', (r: BuildResult) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.error) p.reject(new Error(`index worker: ${r.error}`));
      else p.resolve(r);
    });
    w.on('error', (e) => this.fail(e));
    w.on('exit', (code) => {
      if (this.worker === w) this.fail(new Error(`index worker exited with ${code}`));
    });
    this.worker = w;
    return w;
  }

  private fail(e: Error): void {
    if (this.worker) this.failed = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
