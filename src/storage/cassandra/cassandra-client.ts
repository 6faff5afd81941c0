// Builds a cassandra-driver Client tuned for taxiway: protocol v4, local DC, fast reconnects, configured consistency.
import cassandra from 'cassandra-driver';
import type { Client } from 'cassandra-driver';
import type { CassandraSettings, ConsistencyName } from '../../config/cassandra-options.js';
import { ConfigError } from '../../config/config-error.js';

export type { Client };
export const { types: cqlTypes } = cassandra;

/** The driver's numeric consistency for a name (the names are validated in config/cassandra-options.ts). */
export function consistencyOf(name: ConsistencyName): number {
  return cassandra.types.consistencies[name === 'ONE' ? 'one' : name === 'LOCAL_ONE' ? 'localOne' : name === 'QUORUM' ? 'quorum'
    : name === 'EACH_QUORUM' ? 'eachQuorum' : name === 'ALL' ? 'all' : 'localQuorum'];
}

export type ClientSettings = Pick<CassandraSettings, 'contactPoints' | 'localDataCenter' | 'consistency' | 'credentials'>;

/**
 * The CQL port the nodes share, from the contact points (host:port; 9042 when none names one). The driver
 * reaches every node it discovers through system.peers on this one port, so a cluster on another port
 * (the two-DC test cluster on 9142) needs it, not only the contact points.
 */
export function clusterPort(contactPoints: readonly string[]): number {
  const ports = contactPoints.map((cp) => /:(\d{1,5})$/.exec(cp)?.[1]).filter((p): p is string => p !== undefined);
  return ports.length ? Number(ports[0]) : 9042;
}

/** A client not bound to a keyspace (migrations create it; adapters name it in every statement). */
export function createClient(s: ClientSettings): Client {
  return new cassandra.Client({
    contactPoints: s.contactPoints,
    localDataCenter: s.localDataCenter,
    // Cassandra 5.0 speaks v5, the driver v4 at most: start at v4 and skip a refused handshake.
    // s: DDL waits for every node to agree on the schema, not longer.
    protocolOptions: { maxVersion: 4, maxSchemaAgreementWaitSeconds: 20, port: clusterPort(s.contactPoints) },
    authProvider: s.credentials ? new cassandra.auth.PlainTextAuthProvider(s.credentials.username, s.credentials.password) : undefined,
    queryOptions: { consistency: consistencyOf(s.consistency), prepare: true },
    // A node back from an outage must be used again within seconds, not the default 10 minutes.
    policies: { reconnection: new cassandra.policies.reconnection.ExponentialReconnectionPolicy(500, 5000, false) },
    // ms: a stalled node must fail a write quickly so it goes to the spool instead of holding memory.
    socketOptions: { connectTimeout: 5000, readTimeout: 10_000 },
  });
}

/**
 * client.connect(), with the driver's refusal of an unknown local data centre (an ArgumentError buried in
 * NoHostAvailableError.innerErrors, with a stack) turned into a ConfigError naming CASSANDRA_LOCAL_DC.
 */
export async function connectClient(client: Client, localDataCenter: string): Promise<void> {
  try {
    await client.connect();
  } catch (err) {
    const inner = Object.values((err as { innerErrors?: Record<string, unknown> }).innerErrors ?? {}).map(String).join(' ');
    const m = /only found hosts in data centers: \[([^\]]*)\]/.exec(inner);
    if (m) throw new ConfigError(`CASSANDRA_LOCAL_DC=${localDataCenter}: not a data centre of the cluster (its data centres: ${m[1]})`);
    throw err;
  }
}
