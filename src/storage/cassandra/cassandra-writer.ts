// Writes one item to Cassandra with prepared, idempotent statements: a fix chunk or a job event, plus index rows.
import type { QueryOptions } from 'cassandra-driver';
import type { Client } from './cassandra-client.js';
import { PERIOD_MS, periodOf } from './cassandra-buckets.js';
import type { ChunkItem, EventItem, WriteItem } from './cassandra-items.js';
import type { CassandraMetrics } from './cassandra-metrics.js';

/** Bucket index kinds (buckets.kind). */
export const BUCKET_FIXES = 'fixes';
export const partyKind = (party: 'rider' | 'driver'): string => `${party}_jobs`;

/** Index rows already written by this process are not written again; the set is cleared past this size. */
const MAX_KNOWN_BUCKETS = 200_000;

export class ItemWriter {
  private readonly known = new Set<string>();
  private readonly q: { chunk: string; bucket: string; event: string; party: string };
  private readonly opts: QueryOptions;

  constructor(private readonly client: Client, keyspace: string, consistency: number, private readonly metrics: CassandraMetrics, writeTimeoutMs: number) {
    this.q = {
      chunk: `INSERT INTO ${keyspace}.fix_chunks (driver, day, slice, chunk, n, fixes) VALUES (?, ?, ?, ?, ?, ?)`,
      bucket: `INSERT INTO ${keyspace}.buckets (kind, id, bucket) VALUES (?, ?, ?)`,
      event: `INSERT INTO ${keyspace}.job_events (job, seq, ts, state, caused_by, snapshot) VALUES (?, ?, ?, ?, ?, ?)`,
      party: `INSERT INTO ${keyspace}.jobs_by_party (party, id, period, created_ts, job) VALUES (?, ?, ?, ?, ?)`,
    };
    // isIdempotent: every statement is a plain upsert of fixed values, so the driver may retry it safely.
    this.opts = { prepare: true, isIdempotent: true, consistency, readTimeout: writeTimeoutMs };
  }

  /** Resolves once every row of the item is written; rejects on the first failure (the caller retries the whole item). */
  async write(it: WriteItem): Promise<void> {
    const t0 = process.hrtime.bigint();
    const op = it.kind === 'chunk' ? 'fix_chunk' : 'job_event';
    try {
      if (it.kind === 'chunk') await this.writeChunk(it);
      else await this.writeEvent(it);
    } catch (err) {
      this.metrics.writes.inc({ op, result: 'error' });
      throw err;
    }
    this.metrics.writes.inc({ op, result: 'ok' });
    this.metrics.writeSeconds.observe({ op }, Number(process.hrtime.bigint() - t0) / 1e9);
    if (it.kind === 'chunk') this.metrics.fixesPersisted.inc(it.n);
    else this.metrics.eventsPersisted.inc();
  }

  private async writeChunk(c: ChunkItem): Promise<void> {
    await Promise.all([
      this.client.execute(this.q.chunk, [c.driver, c.day, c.slice, c.id, c.n, c.blob], this.opts),
      this.bucket(BUCKET_FIXES, c.driver, c.day),
    ]);
  }

  private async writeEvent(e: EventItem): Promise<void> {
    const rows: Array<Promise<unknown>> = [this.client.execute(this.q.event, [e.job, e.seq, e.ts, e.state, e.by, e.snapshot], this.opts)];
    // A job is listed under its rider and under every driver ever assigned to it (upserts: repeats are free of effect).
    if (e.createdTs !== null && Math.abs(e.createdTs) < 2 ** 31 * PERIOD_MS) {
      const period = periodOf(e.createdTs);
      for (const [party, id] of [['rider', e.rider], ['driver', e.driver]] as const) {
        if (id === null) continue;
        rows.push(this.client.execute(this.q.party, [party, id, period, e.createdTs, e.job], this.opts), this.bucket(partyKind(party), id, period));
      }
    }
    await Promise.all(rows);
  }

  private async bucket(kind: string, id: string, bucket: number): Promise<void> {
    const key = `${kind}\0${id}\0${bucket}`;
    if (this.known.has(key)) return;
    try {
      await this.client.execute(this.q.bucket, [kind, id, bucket], this.opts);
    } catch (err) {
      this.metrics.writes.inc({ op: 'index', result: 'error' });
      throw err;
    }
    this.metrics.writes.inc({ op: 'index', result: 'ok' });
    if (this.known.size >= MAX_KNOWN_BUCKETS) this.known.clear();
    this.known.add(key);
  }
}
