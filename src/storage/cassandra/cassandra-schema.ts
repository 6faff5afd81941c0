// Keyspace and table layout for Cassandra, with idempotent, versioned migrations (`taxiway migrate`).
import type { Client } from './cassandra-client.js';
import type { Replication } from '../../config/cassandra-options.js';
import { ConfigError } from '../../config/config-error.js';

/**
 * Tables, each designed for one query:
 * - fix_chunks: a driver's track over a time range. Partition (driver, UTC day) bounds a partition to
 *   one driver-day (86,400 fixes at 1 Hz, ~3 MB); rows are chunks of fixes of one 60 s slice, so a
 *   write carries many fixes. `chunk` is a timeuuid taken when the chunk is sealed: the same chunk
 *   retried overwrites itself (idempotent), and on read the earliest chunk's copy of a repeated (driver, ts) wins (first write wins).
 * - buckets: which day/period partitions exist per driver or party, so a range read (even an open one)
 *   visits only partitions that hold data.
 * - job_events: a job's events in seq order; the highest seq row holds the latest snapshot.
 * - jobs_by_party: a rider's or a driver's jobs, newest first, in 30-day periods.
 */
export const MIGRATIONS: ReadonlyArray<{ id: number; name: string; cql: (ks: string) => string[] }> = [
  {
    id: 1,
    name: 'fix chunks, buckets, job events, jobs by party',
    cql: (ks) => [
      `CREATE TABLE IF NOT EXISTS ${ks}.fix_chunks (
        driver text, day int, slice bigint, chunk timeuuid, n int, fixes blob,
        PRIMARY KEY ((driver, day), slice, chunk)
      ) WITH CLUSTERING ORDER BY (slice ASC, chunk ASC)
        AND compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'DAYS', 'compaction_window_size': 1}`,
      `CREATE TABLE IF NOT EXISTS ${ks}.buckets (
        kind text, id text, bucket int,
        PRIMARY KEY ((kind, id), bucket)
      ) WITH CLUSTERING ORDER BY (bucket ASC)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.job_events (
        job text, seq int, ts bigint, state text, caused_by text, snapshot text,
        PRIMARY KEY (job, seq)
      ) WITH CLUSTERING ORDER BY (seq ASC)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.jobs_by_party (
        party text, id text, period int, created_ts bigint, job text,
        PRIMARY KEY ((party, id, period), created_ts, job)
      ) WITH CLUSTERING ORDER BY (created_ts DESC, job DESC)`,
    ],
  },
];

/** Tables the adapter needs; open() checks them so a missing migration fails with a clear message. */
export const REQUIRED_TABLES = ['fix_chunks', 'buckets', 'job_events', 'jobs_by_party'] as const;

export function replicationCql(r: Replication): string {
  if (r.class === 'SimpleStrategy') return `{'class': 'SimpleStrategy', 'replication_factor': ${r.factor}}`;
  const dcs = Object.entries(r.dcs).map(([dc, f]) => `'${dc}': ${f}`).join(', ');
  return `{'class': 'NetworkTopologyStrategy', ${dcs}}`;
}

/** Replication as stored in system_schema.keyspaces, normalised for comparison. */
function sameReplication(current: Record<string, string>, want: Replication): boolean {
  const cls = (current.class ?? '').replace('org.apache.cassandra.locator.', '');
  if (cls !== want.class) return false;
  if (want.class === 'SimpleStrategy') return Number(current.replication_factor) === want.factor;
  const have = Object.entries(current).filter(([k]) => k !== 'class');
  return have.length === Object.keys(want.dcs).length && have.every(([dc, f]) => want.dcs[dc] === Number(f));
}

export interface MigrateReport {
  keyspaceCreated: boolean;
  replicationChanged: boolean;
  applied: string[];
}

/** The data centres of the cluster's nodes as this client sees them (system.local + system.peers). */
export async function clusterDataCentres(client: Client): Promise<string[]> {
  const local = await client.execute('SELECT data_center FROM system.local');
  const peers = await client.execute('SELECT data_center FROM system.peers');
  return [...new Set([...local.rows, ...peers.rows].map((r) => String(r.get('data_center'))))].sort();
}

/**
 * ConfigError naming `key` when a NetworkTopologyStrategy replication names a data centre the cluster
 * does not have: Cassandra would accept it and then refuse every LOCAL_QUORUM write there ("unavailable").
 */
export async function checkReplicationDcs(client: Client, replication: Replication, key = 'CASSANDRA_REPLICATION'): Promise<void> {
  if (replication.class !== 'NetworkTopologyStrategy') return;
  const have = await clusterDataCentres(client);
  const unknown = Object.keys(replication.dcs).filter((dc) => !have.includes(dc));
  if (unknown.length) throw new ConfigError(`${key}: data centre ${unknown.join(', ')} is not in the cluster (its data centres: ${have.join(', ')})`);
}

/**
 * ConfigError naming CASSANDRA_LOCAL_DC when no node of the cluster is in it: the driver would connect
 * and then fail every query with "no host available" (it only uses the local data centre's nodes).
 */
export async function checkLocalDc(client: Client, localDataCenter: string): Promise<void> {
  const have = await clusterDataCentres(client);
  if (!have.includes(localDataCenter)) throw new ConfigError(`CASSANDRA_LOCAL_DC=${localDataCenter}: not a data centre of the cluster (its data centres: ${have.join(', ')})`);
}

/** Creates or updates the keyspace (replication from config) and applies pending table migrations. */
export async function migrate(client: Client, keyspace: string, replication: Replication): Promise<MigrateReport> {
  await checkReplicationDcs(client, replication);
  const report: MigrateReport = { keyspaceCreated: false, replicationChanged: false, applied: [] };
  const ks = await client.execute('SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?', [keyspace]);
  const rep = replicationCql(replication);
  if (ks.rowLength === 0) {
    await client.execute(`CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = ${rep} AND durable_writes = true`);
    report.keyspaceCreated = true;
  } else if (!sameReplication(ks.first().get('replication') as Record<string, string>, replication)) {
    // Raising a factor needs `nodetool repair` on the keyspace afterwards; the CLI says so.
    await client.execute(`ALTER KEYSPACE ${keyspace} WITH replication = ${rep}`);
    report.replicationChanged = true;
  }
  await client.execute(`CREATE TABLE IF NOT EXISTS ${keyspace}.schema_migrations (id int PRIMARY KEY, name text, applied_at timestamp)`);
  const done = new Set((await client.execute(`SELECT id FROM ${keyspace}.schema_migrations`)).rows.map((r) => r.get('id') as number));
  for (const m of MIGRATIONS) {
    if (done.has(m.id)) continue;
    // Every statement is IF NOT EXISTS: a migration cut short is simply run again.
    for (const cql of m.cql(keyspace)) await client.execute(cql);
    await client.execute(`INSERT INTO ${keyspace}.schema_migrations (id, name, applied_at) VALUES (?, ?, ?)`, [m.id, m.name, new Date()], { prepare: true });
    report.applied.push(`${m.id}: ${m.name}`);
  }
  return report;
}

/** Tables of REQUIRED_TABLES missing from the keyspace (all of them when the keyspace is missing). */
export async function missingTables(client: Client, keyspace: string): Promise<string[]> {
  const rs = await client.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?', [keyspace]);
  const have = new Set(rs.rows.map((r) => r.get('table_name') as string));
  return REQUIRED_TABLES.filter((t) => !have.has(t));
}
