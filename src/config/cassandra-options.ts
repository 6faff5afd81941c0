// Cassandra settings: their type and the parsers of their values (configuration, read by the Cassandra adapter; the environment is read in cassandra-settings.ts).
import { ConfigError } from './config-error.js';

/** Keyspace replication: SimpleStrategy (one dev node) or NetworkTopologyStrategy (a factor per data centre). */
export type Replication = { class: 'SimpleStrategy'; factor: number } | { class: 'NetworkTopologyStrategy'; dcs: Record<string, number> };

export const CONSISTENCIES = ['ONE', 'LOCAL_ONE', 'QUORUM', 'LOCAL_QUORUM', 'EACH_QUORUM', 'ALL'] as const;
export type ConsistencyName = (typeof CONSISTENCIES)[number];

/** Everything needed to reach the cluster and lay out the keyspace. */
export interface CassandraSettings {
  contactPoints: string[];
  localDataCenter: string;
  keyspace: string;
  replication: Replication;
  /** For reads and writes; LOCAL_QUORUM unless configured. */
  consistency: ConsistencyName;
  credentials?: { username: string; password: string };
  /** Folder of the local spool (fixes and job events waiting for Cassandra). */
  spoolDir: string;
  /** Most spool bytes on disk before new writes are dropped (and logged), bytes. */
  spoolMaxBytes: number;
  /**
   * Start even when no contact point answers (CASSANDRA_START_OFFLINE=1): writes go to the spool until
   * Cassandra answers, reads fail meanwhile. Off by default, so a wrong address fails the start at once.
   */
  startOffline?: boolean;
}

/** `simple:1` or `eu-west-1:3,us-east-1:3` (NetworkTopologyStrategy). */
export function parseReplication(raw: string, key = 'CASSANDRA_REPLICATION'): Replication {
  const bad = (why: string): never => {
    throw new ConfigError(`${key}=${JSON.stringify(raw)}: ${why} (expected simple:<factor> or <dc>:<factor>[,<dc>:<factor>...])`);
  };
  const parts = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) bad('empty');
  const pairs = parts.map((p) => {
    const i = p.lastIndexOf(':');
    if (i === 0) bad(`"${p}" names no data centre`);
    if (i < 0) bad(`"${p}" has no factor`);
    const name = p.slice(0, i).trim();
    const factor = Number(p.slice(i + 1));
    if (!Number.isInteger(factor) || factor < 1 || factor > 15) bad(`factor of "${name}" must be an integer from 1 to 15`);
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) bad(`"${name}" is not a data centre name`);
    return [name, factor] as const;
  });
  if (pairs.length === 1 && pairs[0]![0].toLowerCase() === 'simple') return { class: 'SimpleStrategy', factor: pairs[0]![1] };
  if (pairs.some(([n]) => n.toLowerCase() === 'simple')) bad('simple cannot be combined with data centres');
  const dcs: Record<string, number> = {};
  for (const [n, f] of pairs) {
    if (n in dcs) bad(`data centre ${n} is given twice`);
    dcs[n] = f;
  }
  return { class: 'NetworkTopologyStrategy', dcs };
}

/** A keyspace name Cassandra accepts unquoted (it is spliced into CQL, so nothing else is allowed). */
export function checkKeyspace(name: string, key = 'CASSANDRA_KEYSPACE'): string {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,47}$/.test(name)) throw new ConfigError(`${key}=${JSON.stringify(name)}: expected a letter then up to 47 of A-Z a-z 0-9 _`);
  return name;
}
