// process_open_fds without stalling the event loop: prom-client's default collector lists /proc/self/fd synchronously at every scrape.
import fs from 'node:fs';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/**
 * Replace the default `<prefix>process_open_fds` gauge of `registry` by one read from a cache that an
 * unref'd timer refreshes every `everyMs` with an asynchronous readdir (on libuv's thread pool). The
 * default one listed /proc/self/fd on the event loop at each scrape: 30-36 ms per scrape with ~20,000
 * sockets open, measured in the dispatch benchmark, where it was the longest stall. No-op without /proc.
 */
export function asyncOpenFds(registry: Registry, prefix: string, everyMs = 10_000): void {
  const name = `${prefix}process_open_fds`;
  if (!registry.getSingleMetric(name)) return; // not Linux: prom-client did not register it
  registry.removeSingleMetric(name);
  let value = NaN;
  const refresh = (): void => {
    fs.promises.readdir('/proc/self/fd').then((l) => (value = l.length), () => undefined);
  };
  refresh();
  setInterval(refresh, everyMs).unref();
  new Gauge({
    name,
    help: 'Number of open file descriptors (refreshed in the background every few seconds).',
    registers: [registry],
    collect() {
      if (value === value) this.set(value);
    },
  });
}
