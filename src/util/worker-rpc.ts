// One lazily started worker thread answering requests by id: the main-thread half of off-loop CPU work (index builds, ETA fits).
import { Worker } from 'node:worker_threads';
import type { Transferable } from 'node:worker_threads';

/** What a worker receives: the caller's request tagged with an id. */
export interface RpcRequest<Q> { id: number; req: Q }
/** What a worker answers: the id, and the result or an error message. */
export interface RpcReply<R> { id: number; res?: R; error?: string }

/**
 * Sends requests to one worker (`url`, started on first use, `unref`ed so it never keeps the process alive)
 * and resolves each call with its reply. Calls may overlap; the worker answers in its own order.
 * Guarantee: every call settles. If the worker errors or exits, pending and later calls reject (callers
 * fall back to doing the work in place) until `close()`.
 */
export class WorkerRpc<Q, R> {
  private worker: Worker | null = null;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (r: R) => void; reject: (e: Error) => void }>();
  private failed: Error | null = null;

  constructor(private readonly url: URL, private readonly label: string) {}

  call(req: Q, transfer: readonly Transferable[] = []): Promise<R> {
    if (this.failed) return Promise.reject(this.failed);
    const w = this.ensure();
    const id = ++this.seq;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const msg: RpcRequest<Q> = { id, req };
      try {
        w.postMessage(msg, transfer as Transferable[]);
      } catch (e) {
        // Not cloneable (a programming error): this call fails, the worker stays usable.
        this.pending.delete(id);
        reject(e as Error);
      }
    });
  }

  /** Stop the worker; pending calls reject. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.fail(new Error(`${this.label} closed`));
    if (w) await w.terminate();
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.url);
    w.unref();
    w.on('message', (r: RpcReply<R>) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.error !== undefined) p.reject(new Error(`${this.label}: ${r.error}`));
      else p.resolve(r.res as R);
    });
    w.on('error', (e) => this.fail(e));
    w.on('exit', (code) => {
      if (this.worker === w) this.fail(new Error(`${this.label} exited with ${code}`));
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

/**
 * The worker-thread half: answer each request with `handle(req)`; a throw becomes the reply's error.
 * `transferOf` names buffers of the result to move instead of copy.
 */
export function serveRpc<Q, R>(
  port: { on(ev: 'message', f: (m: RpcRequest<Q>) => void): unknown; postMessage(m: RpcReply<R>, t?: Transferable[]): void },
  handle: (req: Q) => R,
  transferOf: (res: R) => Transferable[] = () => [],
): void {
  port.on('message', (m) => {
    let reply: RpcReply<R>;
    let transfer: Transferable[] = [];
    try {
      const res = handle(m.req);
      reply = { id: m.id, res };
      transfer = transferOf(res);
    } catch (e) {
      reply = { id: m.id, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(reply, transfer);
  });
}
