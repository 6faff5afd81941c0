// Benchmark: sustained fixes/s persisted to a local Cassandra node (paced 1 Hz fleet) and to LMDB (flat out), as JSON.
// Usage: node dist/benchmarks/storage-persist.js [--drivers 10000] [--seconds 30] [--contact-points 127.0.0.1:9042]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { parseArgs, take } from '../src/cli-args.js';
import { createClient } from '../src/storage/cassandra/cassandra-client.js';
import { migrate } from '../src/storage/cassandra/cassandra-schema.js';
import { openCassandraStorage } from '../src/storage/cassandra/cassandra-storage.js';
import { LmdbStorage } from '../src/storage/lmdb/lmdb-storage.js';
import type { StoredFix } from '../src/storage/ports.js';

const { options } = parseArgs(process.argv.slice(2));
const drivers = Number(take(options, 'drivers') ?? 10_000);
const seconds = Number(take(options, 'seconds') ?? 30);
const contactPoints = (take(options, 'contact-points') ?? process.env.CASSANDRA_CONTACT_POINTS ?? '127.0.0.1:9042').split(',');
const KEYSPACE = 'taxiway_bench';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-bench-'));

const metric = async (r: Registry, name: string, labels: Record<string, string> = {}): Promise<number> =>
  (await r.getSingleMetric(name)?.get())?.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0) ?? 0;

/** One fix per driver for second `sec` of the run, in ingest-sized batches (2000), like Ingest hands them over. */
function secondOfFixes(t0: number, sec: number, each: (batch: StoredFix[]) => void): void {
  for (let d = 0; d < drivers; d += 2000) {
    const batch: StoredFix[] = [];
    for (let k = d; k < Math.min(drivers, d + 2000); k++) {
      batch.push({ driver: `bench-${k}`, ts: t0 + sec * 1000 + (k % 1000), lat: 41.15 + k * 1e-5, lng: -8.61 + sec * 1e-5, hdg: 90, spd: 8.3, acc: 5 });
    }
    each(batch);
  }
}

async function cassandra(): Promise<Record<string, number>> {
  const settings = {
    contactPoints, localDataCenter: process.env.CASSANDRA_LOCAL_DC || 'datacenter1', keyspace: KEYSPACE,
    replication: { class: 'SimpleStrategy' as const, factor: 1 }, consistency: 'LOCAL_QUORUM' as const,
    spoolDir: path.join(tmp, 'spool'), spoolMaxBytes: 8 * 1024 ** 3,
  };
  const c = createClient(settings);
  await c.connect();
  await migrate(c, KEYSPACE, settings.replication);
  await c.shutdown();
  const registry = new Registry();
  const s = await openCassandraStorage({ settings, registry });
  const t0 = Date.now();
  // Paced: every wall-clock second the whole fleet sends one fix (a 1 Hz fleet of `drivers`).
  for (let sec = 0; sec < seconds; sec++) {
    secondOfFixes(t0, sec, (b) => s.appendFixes(b));
    const wait = t0 + (sec + 1) * 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const offeredMs = Date.now() - t0;
  const persistedInWindow = await metric(registry, 'taxiway_fixes_persisted_total');
  const spooled = await metric(registry, 'taxiway_storage_spooled_total', { kind: 'fixes' });
  const tDrain = Date.now();
  await s.drain(600_000);
  const drainMs = Date.now() - tDrain;
  const fixes = drivers * seconds;
  const chunkWrites = await metric(registry, 'taxiway_storage_writes_total', { op: 'fix_chunk', result: 'ok' });
  const indexWrites = await metric(registry, 'taxiway_storage_writes_total', { op: 'index', result: 'ok' });
  const p = await registry.getSingleMetric('taxiway_storage_write_seconds')!.get();
  const sum = p.values.find((v) => (v as { metricName?: string }).metricName === 'taxiway_storage_write_seconds_sum')?.value ?? 0;
  const count = p.values.find((v) => (v as { metricName?: string }).metricName === 'taxiway_storage_write_seconds_count')?.value ?? 1;
  await s.close();
  return {
    offered_fixes_per_s: Math.round(fixes / (offeredMs / 1000)),
    persisted_fixes_per_s_during_run: Math.round(persistedInWindow / (offeredMs / 1000)),
    persisted_fixes_per_s_including_drain: Math.round(fixes / ((offeredMs + drainMs) / 1000)),
    drain_after_run_ms: drainMs,
    fixes_spooled: spooled,
    cassandra_writes_per_fix: Number(((chunkWrites + indexWrites) / fixes).toFixed(4)),
    mean_chunk_write_ms: Number(((sum / count) * 1000).toFixed(2)),
  };
}

async function lmdb(): Promise<Record<string, number>> {
  const s = await LmdbStorage.open(path.join(tmp, 'lmdb'));
  const t0 = Date.now();
  for (let sec = 0; sec < seconds; sec++) secondOfFixes(t0, sec, (b) => s.appendFixes(b));
  await s.flush();
  const ms = Date.now() - t0;
  await s.close();
  return { fixes_per_s: Math.round((drivers * seconds) / (ms / 1000)), puts_per_fix: 1 };
}

try {
  const result = {
    benchmark: 'storage-persist',
    drivers,
    seconds,
    fixes: drivers * seconds,
    cassandra: await cassandra(),
    lmdb: await lmdb(),
    machine: { cpus: os.cpus().length, node: process.version },
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
