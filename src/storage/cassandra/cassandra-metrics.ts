// Prometheus metrics of the Cassandra adapter, registered on the app's registry (reused if already there).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class CassandraMetrics {
  readonly fixesPersisted: Counter;
  readonly eventsPersisted: Counter;
  readonly writes: Counter<'op' | 'result'>;
  readonly writeSeconds: Histogram<'op'>;
  readonly queueDepth: Gauge<'kind'>;
  readonly spoolBytes: Gauge;
  readonly spooling: Gauge;
  readonly spooled: Counter<'kind'>;
  readonly dropped: Counter<'reason'>;

  constructor(readonly registry: Registry = new Registry()) {
    this.fixesPersisted = this.get('taxiway_fixes_persisted_total', () => new Counter({
      name: 'taxiway_fixes_persisted_total', help: 'Fixes written to Cassandra (counted once per chunk, when its write succeeds)', registers: [registry],
    }));
    this.eventsPersisted = this.get('taxiway_job_events_persisted_total', () => new Counter({
      name: 'taxiway_job_events_persisted_total', help: 'Job events written to Cassandra', registers: [registry],
    }));
    this.writes = this.get('taxiway_storage_writes_total', () => new Counter({
      name: 'taxiway_storage_writes_total', help: 'Cassandra write statements, by op (fix_chunk, job_event, index) and result (ok, error)',
      labelNames: ['op', 'result'] as const, registers: [registry],
    }));
    this.writeSeconds = this.get('taxiway_storage_write_seconds', () => new Histogram({
      name: 'taxiway_storage_write_seconds', help: 'Latency of successful Cassandra writes of one item (a fix chunk or a job event with its index rows), seconds',
      labelNames: ['op'] as const, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry],
    }));
    this.queueDepth = this.get('taxiway_storage_queue_depth', () => new Gauge({
      name: 'taxiway_storage_queue_depth', help: 'Items held in memory on their way to Cassandra: fixes (in open chunks, queued or in flight) and job events',
      labelNames: ['kind'] as const, registers: [registry],
    }));
    this.spoolBytes = this.get('taxiway_storage_spool_bytes', () => new Gauge({
      name: 'taxiway_storage_spool_bytes', help: 'Bytes in the local spool waiting to be replayed to Cassandra', registers: [registry],
    }));
    this.spooling = this.get('taxiway_storage_spooling', () => new Gauge({
      name: 'taxiway_storage_spooling', help: '1 while writes go to the local spool (Cassandra slow or unreachable), else 0', registers: [registry],
    }));
    this.spooled = this.get('taxiway_storage_spooled_total', () => new Counter({
      name: 'taxiway_storage_spooled_total', help: 'Items appended to the local spool, by kind (fixes, job_events)', labelNames: ['kind'] as const, registers: [registry],
    }));
    this.dropped = this.get('taxiway_storage_dropped_total', () => new Counter({
      name: 'taxiway_storage_dropped_total', help: 'Fixes or job events not stored, by reason (invalid, closed, spool_full)', labelNames: ['reason'] as const, registers: [registry],
    }));
  }

  /** Reuse a metric a previous adapter on the same registry created (tests reopen adapters). */
  private get<T>(name: string, make: () => T): T {
    return (this.registry.getSingleMetric(name) as T | undefined) ?? make();
  }
}
