// A pool of load-generator processes (benchmarks/loader.ts): splits sockets across them and merges results.
import { Child, forkChild } from './procs.js';
import type { LoaderCmd, LoaderStats } from '../loader.js';

/** Loopback source addresses, so tens of thousands of sockets do not run out of ephemeral ports. */
export const LOCAL_ADDRS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8'];

export class LoaderPool {
  private constructor(readonly loaders: Child[]) {}

  /**
   * `nice`: run the generators that many nice levels below the bench (default BENCH_LOADER_NICE, else 0). Paced
   * latency runs use it where the generators need as much CPU as the server (100k single-frame sends/s take ~0.9
   * of a core here): at equal priority the server got 78% of a core and fix→visible p50 was 129 ms. Where they
   * need little (dispatch), lowering them only delays their reading of what they measure, so it stays 0.
   */
  static async start(n: number, o: { nice?: number } = {}): Promise<LoaderPool> {
    const nice = o.nice ?? Number(process.env.BENCH_LOADER_NICE ?? 0);
    const loaders = Array.from({ length: n }, (_, i) => forkChild('loader.js', { name: `loader${i}`, env: { BENCH_LOADER_NICE: String(nice) } }));
    await Promise.all(loaders.map((l) => l.wait('ready', 30_000)));
    return new LoaderPool(loaders);
  }

  get pids(): number[] {
    return this.loaders.map((l) => l.pid);
  }

  /**
   * Open sockets for `ids` (split in contiguous slices over the loaders), drivers at `points` (lat,lng pairs).
   * Returns the ids opened per loader (in loader order) and failures.
   */
  async open(role: 'driver' | 'rider', ids: string[], points: Float64Array | null, o: { port: number; secret: string; concurrency?: number }): Promise<{ ok: number; failed: number; statuses: Record<string, number>; idsByLoader: string[][]; ms: number }> {
    const k = this.loaders.length;
    const per = Math.ceil(ids.length / k);
    const t = Date.now();
    const res = await Promise.all(
      this.loaders.map((l, j) => {
        const slice = ids.slice(j * per, (j + 1) * per);
        const pts = points ? Array.from(points.subarray(2 * j * per, 2 * (j * per + slice.length))) : undefined;
        const cmd: LoaderCmd = { cmd: 'open', role, ids: slice, points: pts, host: '127.0.0.1', port: o.port, secret: o.secret, localAddrs: LOCAL_ADDRS, concurrency: o.concurrency ?? 64 };
        return l.call<{ ok: number; failed: number; statuses: Record<string, number>; ids: string[] }>(cmd, 'opened', 600_000);
      }),
    );
    const statuses: Record<string, number> = {};
    for (const r of res) for (const [s, c] of Object.entries(r.statuses)) statuses[s] = (statuses[s] ?? 0) + c;
    return { ok: res.reduce((a, r) => a + r.ok, 0), failed: res.reduce((a, r) => a + r.failed, 0), statuses, idsByLoader: res.map((r) => r.ids), ms: Date.now() - t };
  }

  async all(cmd: LoaderCmd, ev = 'ok'): Promise<any[]> {
    return Promise.all(this.loaders.map((l) => l.call(cmd, ev)));
  }

  /** Stream from every loader; `rate` is the total (split evenly) in rate mode. */
  async stream(o: { mode: 'rate' | 'flat'; rate?: number; batch?: number; ackEvery?: number; window?: number; stepScale?: number; backoffMs?: number }): Promise<void> {
    const k = this.loaders.length;
    await this.all({ cmd: 'stream', mode: o.mode, rate: (o.rate ?? 0) / k, batch: o.batch ?? 1, ackEvery: o.ackEvery ?? 32, window: o.window ?? 2, stepScale: o.stepScale, backoffMs: o.backoffMs });
  }

  async stopStream(): Promise<LoaderStats> {
    const res = await this.all({ cmd: 'stop-stream' }, 'stats');
    return mergeStats(res.map((r) => r.stats as LoaderStats));
  }

  async collect(o: { reset: boolean; offers?: boolean; pos?: boolean }): Promise<{ stats: LoaderStats; offers: Array<[string, number, number]>; pos: number[] }> {
    const res = await this.all({ cmd: 'collect', reset: o.reset, offers: o.offers, pos: o.pos }, 'collected');
    return {
      stats: mergeStats(res.map((r) => r.stats as LoaderStats)),
      offers: res.flatMap((r) => r.offers as Array<[string, number, number]>),
      pos: res.flatMap((r) => r.pos as number[]),
    };
  }

  async close(): Promise<void> {
    for (const l of this.loaders) l.send({ cmd: 'close' });
    await Promise.all(this.loaders.map((l) => new Promise<void>((r) => {
      if (l.exited !== null) return r();
      const t = setTimeout(() => { void l.kill(1000).then(r); }, 5000);
      l.proc.once('exit', () => { clearTimeout(t); r(); });
    })));
  }
}

export function mergeStats(list: LoaderStats[]): LoaderStats {
  const out: LoaderStats = { sockets: 0, open: 0, sentFixes: 0, sentFrames: 0, sentBytes: 0, acks: 0, accepted: 0, rejected: 0, duplicates: 0, blocked: 0, errs: {}, closes: {}, offers: 0, ackLatencyMs: null, cpuMs: 0 };
  for (const s of list) {
    for (const k of ['sockets', 'open', 'sentFixes', 'sentFrames', 'sentBytes', 'acks', 'accepted', 'rejected', 'duplicates', 'blocked', 'offers', 'cpuMs'] as const) out[k] += s[k];
    for (const [c, v] of Object.entries(s.errs)) out.errs[c] = (out.errs[c] ?? 0) + v;
    for (const [c, v] of Object.entries(s.closes)) out.closes[c] = (out.closes[c] ?? 0) + v;
    if (s.ackLatencyMs && (!out.ackLatencyMs || s.ackLatencyMs.p99 > out.ackLatencyMs.p99)) out.ackLatencyMs = s.ackLatencyMs;
  }
  return out;
}
