// A taxiway node in a child process for the bench tools: the same startApp() as `taxiway serve`, plus IPC
// commands to preload a realistic fleet, stream extra drivers in-process, flush storage and stop cleanly
// (so --cpu-prof profiles get written).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { startApp } from '../src/app.js';
import { loadConfig } from '../src/config/load-config.js';
import { DriverStatus } from '../src/fleet/city-fleet.js';
import type { Fix } from '../src/protocol/messages.js';
import { cityPoints } from './lib/util.js';

export type ServerCmd =
  | { cmd: 'preload'; n: number; seed: number; prefix: string; available: number }
  | { cmd: 'synthetic'; n: number; seed: number; prefix: string; hz: number; status: 'busy' | 'offline' | 'available'; /** Shift east, degrees (another city). */ dLng?: number }
  | { cmd: 'synthetic-stop' }
  | { cmd: 'flush' }
  | { cmd: 'info'; reset?: boolean }
  | { cmd: 'counters' }
  | { cmd: 'stored'; ids: string[] }
  | { cmd: 'stop' };

const app = await startApp(loadConfig(process.env));
const LOOP_RES_MS = 5;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RES_MS });
loopDelay.enable();
// The lowest JS heap seen since the last `info` reset, sampled every second: about the live heap after the
// interval's last full collection. One sample at an arbitrary moment swings with the collector's phase (45 to
// 141 MB from minute to minute in the 30-minute soak at e8fceef, 2026-12-05), too noisy for a slope.
let heapFloor = Infinity;
const heapTimer = setInterval(() => {
  const h = getHeapStatistics().used_heap_size;
  if (h < heapFloor) heapFloor = h;
}, 1000);
heapTimer.unref();
// BENCH_STALL_TRACE=1: print every event-loop turn over 50 ms and every GC pause over 5 ms to stderr, with
// times since start, to match stalls against their cause (a diagnostic; off by default).
if (process.env.BENCH_STALL_TRACE) {
  const { PerformanceObserver } = await import('node:perf_hooks');
  const t0 = performance.now();
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    if (now - last > 60) process.stderr.write(`stall ${Math.round(now - t0)} ms (wall ${Date.now() % 100_000}): ${Math.round(now - last - 10)} ms late\n`);
    last = now;
  }, 10).unref();
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) if (e.duration > 5) process.stderr.write(`gc ${Math.round(e.startTime - t0)} ms (wall ${Math.round((performance.timeOrigin + e.startTime) % 100_000)}): ${e.duration.toFixed(1)} ms kind ${(e as any).detail?.kind}\n`);
  }).observe({ entryTypes: ['gc'] });
}
const send = (m: unknown): void => {
  process.send?.(m);
};

let synthTimer: NodeJS.Timeout | null = null;
let synthDropped = 0;

process.on('message', (c: ServerCmd) => {
  void (async () => {
    switch (c.cmd) {
      case 'preload': {
        // Drivers with a fresh fix, `available` fraction of them available (the rest busy), straight into the fleet.
        const t = Date.now();
        const pts = cityPoints(c.n, c.seed);
        const now = Date.now();
        const availEvery = c.available > 0 ? 1 / c.available : Infinity;
        let next = 0;
        for (let i = 0; i < c.n; i++) {
          const id = c.prefix + i;
          app.fleet.update(id, pts[2 * i]!, pts[2 * i + 1]!, now, NaN, NaN);
          let s: number = DriverStatus.busy;
          if (i >= next) {
            s = DriverStatus.available;
            next += availEvery;
          }
          app.fleet.setStatus(id, s as 0 | 1 | 2);
        }
        for (const f of app.fleet.cities()) f.rebuildIndex(); // in place: the scenario starts on a complete snapshot
        send({ ev: 'preloaded', n: c.n, ms: Date.now() - t });
        return;
      }
      case 'synthetic': {
        // In-process drivers streaming through ingest (validation, history, fleet) at `hz` each, without sockets:
        // used where the process' open-files limit caps real sockets below the scenario's fleet size.
        const pts = cityPoints(c.n, c.seed);
        const fixes: Fix[] = new Array(c.n);
        for (let i = 0; i < c.n; i++) fixes[i] = { ts: 0, lat: pts[2 * i]!, lng: pts[2 * i + 1]! + (c.dLng ?? 0), hdg: NaN, spd: NaN, acc: NaN };
        const ids = Array.from({ length: c.n }, (_, i) => c.prefix + i);
        const status = DriverStatus[c.status];
        const t0 = Date.now();
        let sent = 0;
        let cursor = 0;
        // Like fixes arriving over sockets, interleaved with other work: at most 10 ms worth per tick, and a
        // backlog (the loop was busy) is dropped rather than replayed in one long burst.
        const perTick = Math.max(1, Math.ceil((c.n * c.hz) / 100));
        synthDropped = 0;
        synthTimer = setInterval(() => {
          const now = Date.now();
          const due = Math.floor(((now - t0) * c.hz * c.n) / 1000);
          if (due - sent > 10 * perTick) {
            synthDropped += due - sent - perTick;
            sent = due - perTick;
          }
          let owed = Math.min(due - sent, perTick);
          while (owed-- > 0) {
            const i = cursor;
            cursor = (cursor + 1) % c.n;
            const f = fixes[i]!;
            const first = f.ts === 0;
            if (!first) f.lat += (i % 2 ? 1 : -1) * 5e-5 * Math.min(1, (now - f.ts) / 1000);
            f.ts = now > f.ts ? now : f.ts + 1;
            app.ingest.accept(ids[i]!, { ...f }, now);
            if (first) app.fleet.setStatus(ids[i]!, status);
            sent++;
          }
        }, 10);
        send({ ev: 'synthetic-started', n: c.n });
        return;
      }
      case 'synthetic-stop':
        if (synthTimer) clearInterval(synthTimer);
        synthTimer = null;
        send({ ev: 'synthetic-stopped', dropped: synthDropped });
        return;
      case 'flush': {
        const t = Date.now();
        app.ingest.flush();
        await app.storage.flush();
        send({ ev: 'flushed', ms: Date.now() - t });
        return;
      }
      case 'counters': {
        // Over IPC rather than GET /metrics: prom-client's default collectors wait for setImmediate, which a
        // saturated event loop (a long I/O poll phase) delays by seconds.
        const acc = (await app.metrics.fixesAccepted.get()).values.reduce((n, v) => n + v.value, 0);
        const rv = (await app.metrics.fixesRejected.get()).values;
        const byReason: Record<string, number> = {};
        for (const v of rv) byReason[String(v.labels.reason)] = (byReason[String(v.labels.reason)] ?? 0) + v.value;
        send({ ev: 'counters', accepted: acc, rejected: rv.reduce((n, v) => n + v.value, 0), byReason, t: Date.now() });
        return;
      }
      case 'stored': {
        // Fixes read back from history for these drivers, after a flush: what the soak compares with accepted.
        app.ingest.flush();
        await app.storage.flush();
        let n = 0;
        const to = Date.now() + 86_400_000;
        for (const id of c.ids) {
          let from = 0;
          for (;;) {
            const page = await app.storage.track(id, from, to, 10_000);
            n += page.points.length;
            if (page.next === undefined) break;
            from = page.next;
          }
        }
        send({ ev: 'stored', n });
        return;
      }
      case 'info': {
        let drivers = 0;
        let available = 0;
        for (const f of app.fleet.cities()) {
          drivers += f.size;
          const st = f.status;
          for (let i = 0; i < f.slotLimit; i++) if (f.alive[i] === 1 && st[i] === DriverStatus.available) available++;
        }
        // The histogram holds timer intervals (resolution + lag): report the lag beyond the resolution.
        const ms = (v: number): number => Math.max(0, Math.round(v / 1e4 - LOOP_RES_MS * 100) / 100);
        const loop = { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max), mean: ms(loopDelay.mean) };
        const mem = process.memoryUsage();
        const heapFloorBytes = Math.min(heapFloor, mem.heapUsed);
        if (c.reset) {
          loopDelay.reset();
          heapFloor = Infinity;
        }
        send({ ev: 'info', drivers, available, hub: app.hub.counts(), mem, heapFloorBytes, loopDelayMs: loop, storageBacklog: app.storage.backlog?.() ?? null, elu: performance.eventLoopUtilization().utilization, cpuS: process.cpuUsage().user / 1e6 });
        return;
      }
      case 'stop': {
        if (synthTimer) clearInterval(synthTimer);
        await app.stop();
        send({ ev: 'stopped' });
        // process.exit writes --cpu-prof profiles; uWS keep-alive sockets would otherwise hold the process open.
        setTimeout(() => process.exit(0), 50);
        return;
      }
    }
  })().catch((e) => send({ ev: 'error', message: String((e as Error)?.stack ?? e) }));
});
process.on('disconnect', () => {
  void app.stop().finally(() => process.exit(0));
});
send({ ev: 'ready', port: app.port, healthPort: app.healthPort, pid: process.pid, secret: app.secret });
