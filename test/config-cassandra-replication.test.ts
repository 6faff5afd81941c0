// CASSANDRA_REPLICATION parsing: data centres and factors, and errors that name the setting (no cluster needed).
import t from 'tap';
import { parseReplication } from '../src/config/cassandra-options.js';
import { ConfigError } from '../src/config/config-error.js';
import { clusterPort } from '../src/storage/cassandra/cassandra-client.js';

t.test('two data centres', async (t) => {
  t.same(parseReplication('dc1:1,dc2:1'), { class: 'NetworkTopologyStrategy', dcs: { dc1: 1, dc2: 1 } });
  t.same(parseReplication('simple:1'), { class: 'SimpleStrategy', factor: 1 });
});

t.test('bad strings: a ConfigError naming CASSANDRA_REPLICATION and what is wrong', async (t) => {
  for (const [raw, why] of [[':1', /names no data centre/], ['dc1', /has no factor/], ['dc1:0', /integer from 1 to 15/], ['dc1:x', /integer/],
    [' , ', /empty/], ['dc1:1,dc1:2', /given twice/], ['simple:1,dc1:1', /cannot be combined/]] as const) {
    let err: unknown;
    try {
      parseReplication(raw);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof ConfigError, `${JSON.stringify(raw)} is refused with a ConfigError`);
    t.match((err as Error).message, /^CASSANDRA_REPLICATION=/, 'naming the setting');
    t.match((err as Error).message, why, 'saying what is wrong');
  }
});

t.test('the driver reaches discovered nodes on the contact points\' port', async (t) => {
  t.equal(clusterPort(['127.0.0.1:9142', '127.0.0.2:9142']), 9142);
  t.equal(clusterPort(['cassandra.internal']), 9042);
});
