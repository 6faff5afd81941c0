// Cluster storage adapter: history and job events in Cassandra, through a bounded queue and a local spool.
import { fixBatch, type FixInput } from '../fix-batch.js';
import type { Registry } from 'prom-client';
import { connectClient, consistencyOf, createClient, type Client } from './cassandra-client.js';
import { FixChunker } from './cassandra-chunker.js';
import { eventItem } from './cassandra-items.js';
import { CassandraMetrics } from './cassandra-metrics.js';
import type { CassandraSettings } from '../../config/cassandra-options.js';
import { ConfigError } from '../../config/config-error.js';
import { WritePipeline, type PipelineLogger, type PipelineOptions } from './cassandra-pipeline.js';
import { CassandraReader } from './cassandra-reader.js';
import { checkLocalDc, migrate, missingTables } from './cassandra-schema.js';
import { ItemWriter } from './cassandra-writer.js';
import { checkJobEvent } from '../job-codec.js';
import type { JobEvent, JobParty, JobRecord, Storage, TrackPage } from '../ports.js';
import { Spool } from '../spool.js';
import { silentLogger } from '../storage-logger.js';

export interface CassandraTuning extends PipelineOptions {
  /** A fix is written at most this long after it arrives (a chunk stays open that long), ms. */
  chunkMs: number;
  maxChunkFixes: number;
  /** A write slower than this fails and goes to the spool, ms. */
  writeTimeoutMs: number;
  readTimeoutMs: number;
  /** close() waits this long for queue and spool to reach Cassandra; the rest stays spooled for the next start, ms. */
  closeTimeoutMs: number;
  spoolSegmentBytes: number;
}

export const DEFAULT_TUNING: CassandraTuning = {
  chunkMs: 5000,
  maxChunkFixes: 1000,
  concurrency: 32,
  maxQueueFixes: 200_000,
  maxQueueEvents: 20_000,
  retryMinMs: 250,
  retryMaxMs: 5000,
  writeTimeoutMs: 5000,
  readTimeoutMs: 10_000,
  closeTimeoutMs: 20_000,
  spoolSegmentBytes: 64 * 1024 * 1024,
};

export interface CassandraStorageOptions {
  settings: CassandraSettings;
  /** Registry to put the adapter's metrics on (the app's). */
  registry?: Registry;
  logger?: PipelineLogger;
  /** A connected client to share (not shut down by close()); by default the adapter makes its own. */
  client?: Client;
  /** Run `migrate` at open (dev and tests); otherwise a missing schema is an error naming `taxiway migrate`. */
  migrate?: boolean;
  tuning?: Partial<CassandraTuning>;
}

/** Connects, checks (or creates) the schema, opens the spool and resumes replaying what a previous run left in it. */
export async function openCassandraStorage(opts: CassandraStorageOptions): Promise<CassandraStorage> {
  const s = opts.settings;
  const tuning = { ...DEFAULT_TUNING, ...opts.tuning };
  const client = opts.client ?? createClient(s);
  const log = opts.logger ?? silentLogger;
  let offline = false;
  try {
    try {
      await connectClient(client, s.localDataCenter);
    } catch (err) {
      // Opt-in: a node restarted during a Cassandra outage serves and spools instead of failing its start.
      if (!s.startOffline || opts.migrate || opts.client || err instanceof ConfigError) throw err;
      offline = true;
      log.warn({ err: String(err), contactPoints: s.contactPoints }, 'storage: Cassandra unreachable at start: serving with writes spooled until it answers');
    }
    if (!offline) {
      await checkLocalDc(client, s.localDataCenter);
      if (opts.migrate) await migrate(client, s.keyspace, s.replication);
      await assertSchema(client, s.keyspace);
    }
    const spool = await Spool.open(s.spoolDir, { segmentBytes: tuning.spoolSegmentBytes, maxBytes: s.spoolMaxBytes, logger: log });
    const storage = new CassandraStorage(client, !opts.client, spool, new CassandraMetrics(opts.registry), log, s, tuning);
    if (offline) storage.checkSchemaWhenReachable();
    return storage;
  } catch (err) {
    if (!opts.client) await client.shutdown().catch(() => undefined);
    throw err;
  }
}

async function assertSchema(client: Client, keyspace: string): Promise<void> {
  const missing = await missingTables(client, keyspace);
  if (missing.length) throw new Error(`Cassandra keyspace ${keyspace} lacks tables ${missing.join(', ')}: run \`npx taxiway migrate\` first`);
}

export class CassandraStorage implements Storage {
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closing: Promise<void> | undefined;
  private readonly chunker: FixChunker;
  private readonly pipeline: WritePipeline;
  private readonly reader: CassandraReader;
  private readonly ticker: NodeJS.Timeout;
  private droppedWarned = 0;
  private readonly keyspace: string;

  constructor(
    private readonly client: Client,
    private readonly ownsClient: boolean,
    private readonly spool: Spool,
    readonly metrics: CassandraMetrics,
    private readonly log: PipelineLogger,
    settings: CassandraSettings,
    private readonly tuning: CassandraTuning,
  ) {
    const cl = consistencyOf(settings.consistency);
    this.keyspace = settings.keyspace;
    const writer = new ItemWriter(client, settings.keyspace, cl, metrics, tuning.writeTimeoutMs);
    this.pipeline = new WritePipeline(writer, spool, metrics, log, tuning);
    this.chunker = new FixChunker(tuning, (c) => this.pipeline.submit(c));
    this.reader = new CassandraReader(client, settings.keyspace, cl, tuning.readTimeoutMs);
    // 250 ms: seals chunks within a quarter second of their age limit and keeps gauges fresh.
    this.ticker = setInterval(() => this.tick(), 250);
    this.ticker.unref();
    // A spool left by a previous run (outage, or a stop before it drained) is replayed now.
    if (!spool.isEmpty) this.pipeline.resumeBacklog();
    this.tick();
  }

  appendFixes(input: FixInput): void {
    const fixes = fixBatch(input);
    if (this.state !== 'open') {
      this.metrics.dropped.inc({ reason: 'closed' }, fixes.length);
      if (this.droppedWarned++ === 0) this.log.warn({ fixes: fixes.length }, 'fixes dropped: storage closed');
      return;
    }
    const invalid = this.chunker.add(fixes, Date.now());
    if (invalid > 0) {
      this.metrics.dropped.inc({ reason: 'invalid' }, invalid);
      this.log.warn({ fixes: invalid }, 'fixes dropped: missing driver, non-integer ts or non-finite lat/lng');
    }
  }

  async track(driver: string, fromMs: number, toMs: number, limit: number): Promise<TrackPage> {
    this.assertReadable();
    return this.reader.track(driver, fromMs, toMs, limit);
  }

  /** Resolves once the event is in Cassandra or durable in the local spool. */
  async appendJobEvent(ev: JobEvent): Promise<void> {
    if (this.state !== 'open') throw new Error('storage closed');
    checkJobEvent(ev);
    const item = eventItem(ev); // serialised now: later caller mutations cannot leak in
    await new Promise<void>((resolve, reject) => this.pipeline.submit(item, (err) => (err ? reject(err) : resolve())));
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    this.assertReadable();
    return this.reader.getJob(id);
  }

  async jobEvents(id: string): Promise<JobEvent[]> {
    this.assertReadable();
    return this.reader.jobEvents(id);
  }

  async recentJobs(party: JobParty, id: string, limit: number, beforeMs = Infinity): Promise<JobRecord[]> {
    this.assertReadable();
    return this.reader.recentJobs(party, id, limit, beforeMs);
  }

  /** Everything accepted so far is in Cassandra, or (while Cassandra is unreachable) fdatasync'ed in the spool. */
  async flush(): Promise<void> {
    if (this.state === 'closed') return;
    this.chunker.sealAll();
    await this.pipeline.flush();
  }

  /** Waits until everything accepted is in Cassandra itself (queue and spool empty); false on timeout. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.chunker.sealAll();
    return this.pipeline.drain(timeoutMs);
  }

  /** Drains for up to closeTimeoutMs; what is left stays in the spool and is replayed by the next open. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /**
   * After an offline start: retry connecting every few seconds (writes also retry on their own, through the
   * spool) and, once connected, check the schema, logging loudly when tables are missing.
   */
  checkSchemaWhenReachable(everyMs = 5000): void {
    const attempt = async (): Promise<void> => {
      if (this.state !== 'open') return;
      try {
        await this.client.connect();
      } catch {
        setTimeout(() => void attempt(), everyMs).unref();
        return;
      }
      // Connected after close(): the driver's shutdown skipped a client that was not connected yet.
      if (this.state !== 'open') {
        if (this.ownsClient) await this.client.shutdown().catch(() => undefined);
        return;
      }
      try {
        await assertSchema(this.client, this.keyspace);
        this.log.info?.({}, 'storage: Cassandra reachable, schema present');
      } catch (err) {
        this.log.error({ err: String(err) }, 'storage: Cassandra answers but the schema is incomplete: writes stay spooled');
      }
    };
    void attempt();
  }

  async healthy(): Promise<boolean> {
    return this.state === 'open' && this.reader.ping(2000);
  }

  /** For logs and tests: mode, memory, spool backlog. */
  duplicatesDiscarded(): number {
    return this.reader.duplicates;
  }

  stats(): { mode: 'direct' | 'spooling'; fixesInMemory: number; eventsInMemory: number; spoolBytes: number } {
    const m = this.pipeline.memory;
    return { mode: this.pipeline.mode, fixesInMemory: m.fixes + this.chunker.size, eventsInMemory: m.events, spoolBytes: this.spool.pendingBytes };
  }

  private tick(): void {
    if (this.state === 'open') this.chunker.sealDue(Date.now());
    const s = this.stats();
    this.metrics.queueDepth.set({ kind: 'fixes' }, s.fixesInMemory);
    this.metrics.queueDepth.set({ kind: 'job_events' }, s.eventsInMemory);
    this.metrics.spoolBytes.set(s.spoolBytes);
    this.metrics.spooling.set(s.mode === 'spooling' ? 1 : 0);
  }

  private async shutdown(): Promise<void> {
    this.state = 'closing';
    this.chunker.sealAll();
    const drained = await this.pipeline.drain(this.tuning.closeTimeoutMs);
    if (!drained) this.log.warn(this.stats(), 'storage: Cassandra did not take everything before close: the rest stays in the spool for the next start');
    await this.pipeline.stop();
    await this.spool.close();
    clearInterval(this.ticker);
    this.tick();
    this.state = 'closed';
    if (this.ownsClient) await this.client.shutdown();
  }

  private assertReadable(): void {
    if (this.state === 'closed') throw new Error('storage closed');
  }
}
