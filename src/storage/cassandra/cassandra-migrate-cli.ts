// `taxiway migrate`: creates or updates the Cassandra keyspace (replication from config) and its tables.
import { parseArgs, take } from '../../cli-args.js';
import { cassandraSettingsFromEnv } from '../../config/cassandra-settings.js';
import { ConfigError } from '../../config/config-error.js';
import type { EnvSource } from '../../config/config-error.js';
import { readEnvironment } from '../../config/environment.js';
import { connectClient, createClient } from './cassandra-client.js';
import { checkLocalDc, migrate, replicationCql } from './cassandra-schema.js';

export const MIGRATE_USAGE = `usage: taxiway migrate [--contact-points H:P,...] [--keyspace K] [--local-dc DC] [--replication R]

Creates the keyspace if missing, changes its replication when the configuration changed, and applies
pending table migrations. Safe to run again. Options override CASSANDRA_CONTACT_POINTS,
CASSANDRA_KEYSPACE (taxiway), CASSANDRA_LOCAL_DC (datacenter1) and CASSANDRA_REPLICATION:
"simple:1" for one dev node, "eu-west-1:3,us-east-1:3" for NetworkTopologyStrategy per data centre.`;

const FLAGS: Record<string, string> = {
  'contact-points': 'CASSANDRA_CONTACT_POINTS',
  keyspace: 'CASSANDRA_KEYSPACE',
  'local-dc': 'CASSANDRA_LOCAL_DC',
  replication: 'CASSANDRA_REPLICATION',
};

/** Runs the migration; returns the process exit code (0 done, 1 cluster error, 2 bad usage). */
export async function runMigrate(argv: string[], env: EnvSource = readEnvironment()): Promise<number> {
  let settings;
  try {
    const { options, positional } = parseArgs(argv, new Set(['help']));
    if (take(options, 'help')) {
      process.stdout.write(MIGRATE_USAGE + '\n');
      return 0;
    }
    const src = { ...env };
    for (const [flag, key] of Object.entries(FLAGS)) {
      const v = take(options, flag);
      if (v !== undefined) src[key] = v;
    }
    const unknown = [...Object.keys(options).map((k) => `--${k}`), ...positional];
    if (unknown.length) throw new ConfigError(`unexpected argument ${unknown[0]}\n\n${MIGRATE_USAGE}`);
    settings = cassandraSettingsFromEnv(src, env.TAXIWAY_DATA_DIR || './data');
  } catch (e) {
    process.stderr.write(`taxiway migrate: ${(e as Error).message}\n`);
    return 2;
  }
  const client = createClient(settings);
  try {
    await connectClient(client, settings.localDataCenter);
    await checkLocalDc(client, settings.localDataCenter);
    const r = await migrate(client, settings.keyspace, settings.replication);
    const out = [
      `keyspace ${settings.keyspace}: ${r.keyspaceCreated ? 'created' : r.replicationChanged ? 'replication changed' : 'exists'}, replication ${replicationCql(settings.replication)}`,
      r.applied.length ? `applied migrations: ${r.applied.join('; ')}` : 'tables up to date',
    ];
    if (r.replicationChanged) out.push(`run \`nodetool repair ${settings.keyspace}\` on every node so existing data reaches its new replicas`);
    process.stdout.write(out.join('\n') + '\n');
    return 0;
  } catch (e) {
    process.stderr.write(`taxiway migrate: ${(e as Error).message}\n`);
    // A setting the cluster contradicts (a data centre it does not have) is bad usage, like a malformed one.
    return e instanceof ConfigError ? 2 : 1;
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}
