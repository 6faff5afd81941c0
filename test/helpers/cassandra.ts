// Real Cassandra for tests, only when asked for (CASSANDRA_CONTACT_POINTS): a test run never leaves a JVM behind.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from '../../src/storage/cassandra/cassandra-client.js';
import type { CassandraSettings } from '../../src/config/cassandra-options.js';
import { migrate } from '../../src/storage/cassandra/cassandra-schema.js';
import { skipOrFail } from './services.js';

/** The repo root (this file runs from dist/test/helpers). */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const START = path.join(REPO, 'scripts/cassandra/start.sh');
const STOP = path.join(REPO, 'scripts/cassandra/stop.sh');

export interface TestCassandra {
  contactPoints: string[];
  localDataCenter: string;
}

/** Runs a repo script; resolves with its exit code and output (stderr carries its progress). */
export function runScript(script: string, env: Record<string, string> = {}, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('bash', [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    p.on('error', (err) => resolve({ code: 1, stdout, stderr: stderr + String(err) }));
  });
}

/**
 * Why the Cassandra tests do not run, or undefined when they do. They run only when asked for, with
 * CASSANDRA_CONTACT_POINTS set: `npm test` must not start a ~700 MB JVM of its own accord and leave it
 * running. `npm run test:cassandra` starts the dev node for one run and stops it; CI (.ci/run) starts
 * and stops its own.
 */
export function cassandraNotAsked(): string | undefined {
  if (process.env.CASSANDRA_CONTACT_POINTS) return undefined;
  return 'not asked for: set CASSANDRA_CONTACT_POINTS (`npm run cassandra:start` prints it; `npm run cassandra:stop` stops it), or run `npm run test:cassandra`';
}

let shared: Promise<TestCassandra | string> | null = null;

/** The cluster tests use (CASSANDRA_CONTACT_POINTS), or a skip reason. Throws instead of skipping in CI. */
export function testCassandra(): Promise<TestCassandra | string> {
  shared ??= (async () => {
    const notAsked = cassandraNotAsked();
    if (notAsked !== undefined) return skipOrFail('Cassandra', notAsked);
    const localDataCenter = process.env.CASSANDRA_LOCAL_DC || 'datacenter1';
    return { contactPoints: process.env.CASSANDRA_CONTACT_POINTS!.split(',').map((s) => s.trim()), localDataCenter };
  })();
  return shared;
}

/** Settings for a test keyspace with a private spool dir; the keyspace is migrated once per process. */
export async function testSettings(c: TestCassandra, keyspace: string, spoolDir: string): Promise<CassandraSettings> {
  const s: CassandraSettings = {
    contactPoints: c.contactPoints,
    localDataCenter: c.localDataCenter,
    keyspace,
    replication: { class: 'SimpleStrategy', factor: 1 },
    consistency: 'LOCAL_QUORUM',
    spoolDir,
    spoolMaxBytes: 1024 ** 3,
  };
  await ensureKeyspace(s);
  return s;
}

const migrated = new Map<string, Promise<void>>();

function ensureKeyspace(s: CassandraSettings): Promise<void> {
  let p = migrated.get(s.keyspace);
  if (!p) {
    p = withClient(s, (client) => migrate(client, s.keyspace, s.replication).then(() => undefined));
    migrated.set(s.keyspace, p);
  }
  return p;
}

/** A short-lived client for checks that look under the adapter (raw rows). */
export async function withClient<T>(s: Pick<CassandraSettings, 'contactPoints' | 'localDataCenter' | 'consistency'>, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = createClient(s);
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.shutdown();
  }
}

/** A throw-away node owned by one test (its own ports and folder), which the test may freeze or kill. */
export class OwnCassandraNode {
  private constructor(readonly dir: string, readonly port: number, readonly storagePort: number) {}

  get contactPoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return Number(fs.readFileSync(path.join(this.dir, 'cassandra.pid'), 'utf8'));
  }

  /**
   * Starts a clean node; throws with the script's last lines when it cannot, and without starting
   * anything when Cassandra tests were not asked for (see cassandraNotAsked). The test stops it.
   */
  static async start(dir: string, port: number, storagePort: number): Promise<OwnCassandraNode> {
    const notAsked = cassandraNotAsked();
    if (notAsked !== undefined) throw new Error(notAsked);
    const n = new OwnCassandraNode(dir, port, storagePort);
    const r = await runScript(START, n.env(), ['--clean']);
    if (r.code !== 0) throw new Error(`own Cassandra node did not start: ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
    return n;
  }

  signal(sig: 'SIGSTOP' | 'SIGCONT'): void {
    process.kill(this.pid, sig);
  }

  async stop(): Promise<void> {
    await runScript(STOP, { ...this.env(), CASSANDRA_STOP_GRACE_S: '20' });
  }

  private env(): Record<string, string> {
    return { CASSANDRA_DIR: this.dir, CASSANDRA_PORT: String(this.port), CASSANDRA_STORAGE_PORT: String(this.storagePort), CASSANDRA_HEAP: '768m' };
  }
}

/** Sum of a prom-client metric's values whose labels include `labels`. */
export async function metricValue(r: import('prom-client').Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  return (await r.getSingleMetric(name)!.get()).values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
}

/** Every stored fix of `drivers`, counted through the adapter's `track` pages. */
export async function countTracked(storage: import('../../src/storage/ports.js').HistoryStore, drivers: readonly string[]): Promise<number> {
  let stored = 0;
  for (const d of drivers) {
    let from = -Infinity;
    for (;;) {
      const page = await storage.track(d, from, Infinity, 10_000);
      stored += page.points.length;
      if (page.next === undefined) break;
      from = page.next;
    }
  }
  return stored;
}

/** Fixes in the raw chunk rows of `drivers` (under the adapter: a duplicate would count twice). */
export async function countRawChunkFixes(s: Pick<CassandraSettings, 'contactPoints' | 'localDataCenter' | 'consistency'>, keyspace: string, drivers: readonly string[]): Promise<number> {
  const { decodeChunk } = await import('../../src/storage/chunk-codec.js');
  return withClient(s, async (c) => {
    let count = 0;
    for (const d of drivers) {
      const days = await c.execute(`SELECT bucket FROM ${keyspace}.buckets WHERE kind = 'fixes' AND id = ?`, [d], { prepare: true });
      for (const day of days.rows) {
        const rs = await c.execute(`SELECT slice, fixes FROM ${keyspace}.fix_chunks WHERE driver = ? AND day = ?`, [d, day.get('bucket')], { prepare: true, fetchSize: 5000 });
        for (const row of rs.rows) decodeChunk(Number(row.get('slice')), row.get('fixes') as Buffer, () => count++);
      }
    }
    return count;
  });
}
