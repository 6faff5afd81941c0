// Reads the CASSANDRA_* settings of cluster-mode storage from the environment (parsers live with the adapter).
import path from 'node:path';
import { CONSISTENCIES, checkKeyspace, parseReplication } from './cassandra-options.js';
import type { CassandraSettings, ConsistencyName } from './cassandra-options.js';
import { ConfigError } from './config-error.js';
import type { EnvSource } from './config-error.js';
import { SETTINGS, flagSetting, numberSetting } from './settings.js';

/**
 * Reads the cluster-mode storage keys. `dataDir` is the node's data dir (the spool defaults to
 * `<dataDir>/spool`). Throws ConfigError naming the setting.
 */
export function cassandraSettingsFromEnv(src: EnvSource, dataDir: string): CassandraSettings {
  const cps = (src.CASSANDRA_CONTACT_POINTS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (cps.length === 0) throw new ConfigError('CASSANDRA_CONTACT_POINTS is required: host[:port][,host[:port]...]');
  for (const cp of cps) if (!/^[A-Za-z0-9_.\-[\]:]+$/.test(cp)) throw new ConfigError(`CASSANDRA_CONTACT_POINTS: "${cp}" is not host[:port]`);
  const consistency = (src.CASSANDRA_CONSISTENCY || SETTINGS.CASSANDRA_CONSISTENCY.def).toUpperCase();
  if (!(CONSISTENCIES as readonly string[]).includes(consistency)) throw new ConfigError(`CASSANDRA_CONSISTENCY=${consistency}: expected one of ${CONSISTENCIES.join(', ')}`);
  const user = src.CASSANDRA_USERNAME || undefined;
  return {
    contactPoints: cps,
    localDataCenter: src.CASSANDRA_LOCAL_DC || SETTINGS.CASSANDRA_LOCAL_DC.def,
    keyspace: checkKeyspace(src.CASSANDRA_KEYSPACE || SETTINGS.CASSANDRA_KEYSPACE.def),
    replication: parseReplication(src.CASSANDRA_REPLICATION || SETTINGS.CASSANDRA_REPLICATION.def),
    consistency: consistency as ConsistencyName,
    credentials: user ? { username: user, password: src.CASSANDRA_PASSWORD ?? '' } : undefined,
    spoolDir: path.resolve(src.CASSANDRA_SPOOL_DIR || path.join(dataDir, 'spool')),
    spoolMaxBytes: numberSetting(src, 'CASSANDRA_SPOOL_MAX_BYTES'),
    startOffline: flagSetting(src, 'CASSANDRA_START_OFFLINE'),
  };
}
