// Child processes of the bench tools: forking with IPC request/reply, CPU and RSS sampling from /proc,
// Prometheus scraping, machine facts and the git commit (read from .git, no git command).
import { fork, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/benchmarks (where the compiled tools live). */
export const BENCH_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
/** The repository root. */
export const ROOT = path.resolve(BENCH_DIR, '..', '..');

/** A forked child that answers IPC commands with events, in order. */
export class Child {
  private queue: Array<{ want: (m: any) => boolean; resolve: (m: any) => void; reject: (e: Error) => void }> = [];
  private backlog: any[] = [];
  exited: number | null = null;
  readonly stderr: string[] = [];

  constructor(readonly proc: ChildProcess, readonly name: string) {
    proc.on('message', (m: any) => {
      if (m?.ev === 'error') {
        const w = this.queue.shift();
        if (w) w.reject(new Error(`${name}: ${m.message}`));
        return;
      }
      const k = this.queue.findIndex((w) => w.want(m));
      if (k >= 0) this.queue.splice(k, 1)[0]!.resolve(m);
      else this.backlog.push(m);
    });
    proc.stderr?.on('data', (d: Buffer) => {
      const s = d.toString();
      this.stderr.push(s);
      if (this.stderr.length > 200) this.stderr.shift();
      if (process.env.BENCH_VERBOSE) process.stderr.write(`[${name}] ${s}`);
    });
    proc.stdout?.on('data', (d: Buffer) => {
      if (process.env.BENCH_VERBOSE) process.stderr.write(`[${name}] ${d}`);
    });
    proc.on('exit', (code, sig) => {
      this.exited = code ?? (sig ? 128 : 0);
      for (const w of this.queue.splice(0)) w.reject(new Error(`${name} exited (${code ?? sig}) ${this.stderr.join('').slice(-600)}`));
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Wait for the next event matching `ev` (or any predicate). */
  wait<T = any>(ev: string | ((m: any) => boolean), timeoutMs = 600_000): Promise<T> {
    const want = typeof ev === 'string' ? (m: any) => m?.ev === ev : ev;
    const k = this.backlog.findIndex(want);
    if (k >= 0) return Promise.resolve(this.backlog.splice(k, 1)[0]);
    if (this.exited !== null) return Promise.reject(new Error(`${this.name} already exited (${this.exited}) ${this.stderr.join('').slice(-600)}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: timed out waiting for ${String(ev)}`)), timeoutMs);
      this.queue.push({ want, resolve: (m) => { clearTimeout(timer); resolve(m); }, reject: (e) => { clearTimeout(timer); reject(e); } });
    });
  }

  /** Send a command and wait for the reply event. */
  async call<T = any>(msg: object, ev: string, timeoutMs?: number): Promise<T> {
    const p = this.wait<T>(ev, timeoutMs);
    this.proc.send(msg);
    return p;
  }

  send(msg: object): void {
    if (this.exited === null && this.proc.connected) this.proc.send(msg);
  }

  /** Wait up to `ms` for the process to exit on its own; true when it did. */
  waitExit(ms: number): Promise<boolean> {
    if (this.exited !== null) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.proc.once('exit', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  async kill(graceMs = 5000): Promise<void> {
    if (this.exited !== null) return;
    const done = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await done;
    clearTimeout(t);
  }
}

/** Fork a compiled module of dist/benchmarks (e.g. 'loader.js') with IPC. */
export function forkChild(rel: string, opts: { name?: string; args?: string[]; execArgv?: string[]; env?: Record<string, string | undefined> } = {}): Child {
  const proc = fork(path.join(BENCH_DIR, rel), opts.args ?? [], {
    execArgv: opts.execArgv ?? [],
    env: { ...process.env, ...(opts.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  return new Child(proc, opts.name ?? rel);
}

// ---- /proc sampling ----

const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const v = Number(r.stdout?.trim());
  return Number.isFinite(v) && v > 0 ? v : 100;
})();

/** CPU seconds (user + system) and RSS bytes of a process, or null when it is gone. */
export function procSample(pid: number): { cpuS: number; sysS: number; rss: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(f[11]) + Number(f[12])) / CLK_TCK;
    const sysS = Number(f[12]) / CLK_TCK;
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    return { cpuS, sysS, rss };
  } catch {
    return null;
  }
}

/** Busy CPU seconds of the whole machine (all cores) since boot, from /proc/stat. */
export function machineBusyS(): number {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    return ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0)) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** Processes other than the ones watched: how many cores they kept busy during the last window. */
export interface MachineUsage { busyCores: number; foreignCores: number }

/** Samples processes every `everyMs`: CPU use (% of one core) over the window, and peak RSS. */
export class ProcSampler {
  private machine0 = NaN;
  private t0 = 0;
  /** Machine-wide CPU during the window, and the part used by processes not watched here (other work on a shared box). */
  machine: MachineUsage = { busyCores: NaN, foreignCores: NaN };
  private timer: NodeJS.Timeout | null = null;
  private first = new Map<number, { cpuS: number; sysS: number; t: number }>();
  private last = new Map<number, { cpuS: number; sysS: number; t: number }>();
  private peak = new Map<number, number>();
  private rssLast = new Map<number, number>();
  private rssFirst = new Map<number, number>();
  private n = 0;
  /** RSS (MB) of each process about once a second, for trends. */
  readonly rssSeries = new Map<number, number[]>();

  private readonly pids: number[];
  /** The watched processes plus this one (the orchestrator runs autocannon and the HTTP clients). */
  constructor(pids: number[], private readonly everyMs = 250) {
    this.pids = [...new Set([...pids, process.pid])];
  }

  start(): this {
    this.machine0 = machineBusyS();
    this.t0 = performance.now();
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    return this;
  }

  private sample(): void {
    this.n++;
    const t = performance.now();
    for (const pid of this.pids) {
      const s = procSample(pid);
      if (!s) continue;
      if (!this.first.has(pid)) this.first.set(pid, { cpuS: s.cpuS, sysS: s.sysS, t });
      this.last.set(pid, { cpuS: s.cpuS, sysS: s.sysS, t });
      this.peak.set(pid, Math.max(this.peak.get(pid) ?? 0, s.rss));
      this.rssLast.set(pid, s.rss);
      if (!this.rssFirst.has(pid)) this.rssFirst.set(pid, s.rss);
      if (this.n % Math.max(1, Math.round(1000 / this.everyMs)) === 0) {
        let a = this.rssSeries.get(pid);
        if (!a) this.rssSeries.set(pid, (a = []));
        a.push(Math.round(s.rss / 1048576));
      }
    }
  }

  /** Stop and report per pid: cpu % of one core, peak and last RSS in MB. */
  stop(): Record<number, { cpuPct: number; sysPct: number; rssPeakMb: number; rssLastMb: number; rssFirstMb: number }> {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    const dtAll = (performance.now() - this.t0) / 1000;
    const busy = (machineBusyS() - this.machine0) / dtAll;
    let ours = 0;
    for (const pid of this.pids) {
      const a = this.first.get(pid);
      const b = this.last.get(pid);
      if (a && b && b.t > a.t) ours += (b.cpuS - a.cpuS) / ((b.t - a.t) / 1000);
    }
    this.machine = { busyCores: Math.round(busy * 100) / 100, foreignCores: Math.round(Math.max(0, busy - ours) * 100) / 100 };
    const out: Record<number, { cpuPct: number; sysPct: number; rssPeakMb: number; rssLastMb: number; rssFirstMb: number }> = {};
    for (const pid of this.pids) {
      const a = this.first.get(pid);
      const b = this.last.get(pid);
      const dt = a && b ? (b.t - a.t) / 1000 : 0;
      out[pid] = {
        cpuPct: a && b && dt > 0 ? Math.round(((b.cpuS - a.cpuS) / dt) * 1000) / 10 : NaN,
        /** The kernel's share of that (system time: socket reads and writes). */
        sysPct: a && b && dt > 0 ? Math.round(((b.sysS - a.sysS) / dt) * 1000) / 10 : NaN,
        rssPeakMb: Math.round((this.peak.get(pid) ?? 0) / 1048576),
        rssLastMb: Math.round((this.rssLast.get(pid) ?? 0) / 1048576),
        rssFirstMb: Math.round((this.rssFirst.get(pid) ?? 0) / 1048576),
      };
    }
    return out;
  }
}

// ---- Prometheus text ----

/** Sum of every sample of `name` whose labels include `labels`. */
export function promValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    let ok = true;
    for (const [k, v] of Object.entries(labels)) if (!rest.includes(`${k}="${v}"`)) ok = false;
    if (!ok) continue;
    const v = Number(rest.slice(rest.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

/** Bucket counts of a histogram: [[le, count], ...] summed over label sets matching `labels`. */
export function promHistogram(text: string, name: string): Array<[number, number]> {
  const m = new Map<number, number>();
  const re = new RegExp(`^${name}_bucket\\{.*le="([^"]+)".*\\} (\\S+)$`);
  for (const line of text.split('\n')) {
    const r = re.exec(line);
    if (!r) continue;
    const le = r[1] === '+Inf' ? Infinity : Number(r[1]);
    m.set(le, (m.get(le) ?? 0) + Number(r[2]));
  }
  return [...m.entries()].sort((a, b) => a[0] - b[0]);
}

/** Quantile upper bound from cumulative buckets (the smallest `le` holding q of the samples). */
export function histQuantile(buckets: Array<[number, number]>, q: number): number {
  const total = buckets.length ? buckets[buckets.length - 1]![1] : 0;
  if (total === 0) return NaN;
  for (const [le, c] of buckets) if (c >= q * total) return le;
  return Infinity;
}

export async function scrape(url: string, timeoutMs = 20_000): Promise<string> {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return r.text();
}

// ---- machine facts ----

export function machineInfo(): { cpu: string; cores: number; ram_gb: number; os: string; load_avg: number[] } {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    ram_gb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    load_avg: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

/** HEAD's commit, read from .git without running git; 'unknown' when there is none. */
export function gitCommit(root = ROOT): string {
  try {
    let gitDir = path.join(root, '.git');
    if (fs.statSync(gitDir).isFile()) {
      const m = /gitdir:\s*(.+)/.exec(fs.readFileSync(gitDir, 'utf8'));
      if (!m) return 'unknown';
      gitDir = path.resolve(root, m[1]!.trim());
    }
    const head = fs.readFileSync(path.join(gitDir, 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref:')) return head;
    const ref = head.slice(4).trim();
    // A worktree's branch refs live in the main repository's directory (named by its `commondir` file).
    const common = path.join(gitDir, 'commondir');
    if (fs.existsSync(common)) gitDir = path.resolve(gitDir, fs.readFileSync(common, 'utf8').trim());
    const loose = path.join(gitDir, ref);
    if (fs.existsSync(loose)) return fs.readFileSync(loose, 'utf8').trim();
    const packed = path.join(gitDir, 'packed-refs');
    if (fs.existsSync(packed)) {
      for (const line of fs.readFileSync(packed, 'utf8').split('\n')) {
        const [sha, name] = line.split(' ');
        if (name === ref && sha) return sha;
      }
    }
    return 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The open-files limit of this process (the bench sizes socket counts to it). */
export function openFilesLimit(): number {
  try {
    const m = /Max open files\s+(\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : 1024;
  } catch {
    return 1024;
  }
}
