// Test helper: real `taxiway serve` processes sharing one Redis, started, killed and restarted by tests.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { signToken } from '../../src/auth/tokens.js';
import type { Role } from '../../src/protocol/messages.js';
import { freePort } from './redis.js';
import { SECRET } from './server.js';

const BIN = fileURLToPath(new URL('../../../bin/taxiway.js', import.meta.url));

/** Longest a `taxiway serve` process may take to answer /readyz 200 before the test fails, ms. */
const READY_TIMEOUT_MS = 60_000;

export class Node {
  proc: ChildProcess | null = null;
  output = '';
  constructor(readonly name: string, readonly port: number, readonly env: Record<string, string>) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.proc = spawn(process.execPath, [BIN, 'serve'], { env: { ...process.env, ...this.env, PORT: String(this.port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer): void => {
      this.output = (this.output + d.toString()).slice(-20_000);
    };
    this.proc.stdout!.on('data', keep);
    this.proc.stderr!.on('data', keep);
    // A node is ready in ~2-4 s here, but CI runs two test files at once on 2 cores and the neighbour
    // can be a starting Cassandra JVM: 20 s was seen to pass by with the node still loading its modules.
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`node ${this.name} exited ${this.proc.exitCode}: ${this.output}`);
      try {
        const r = await fetch(`${this.url}/readyz`);
        if (r.status === 200) return;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // Never leave a node that did not come up running behind the test (its cluster object does not exist yet).
    await this.stop('SIGKILL');
    throw new Error(`node ${this.name} did not become ready: ${this.output}`);
  }

  /** Stop with a signal; SIGKILL simulates a crash. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
    this.proc = null;
  }
}

export interface Cluster {
  nodes: Node[];
  prefix: string;
  token(role: Role, sub: string): Promise<string>;
  stop(): Promise<void>;
}

/** Start `n` nodes on one Redis with a fresh key prefix. `env` adds settings for every node, `perNode[i]` for node i (e.g. its TAXIWAY_SERVE_CITIES). */
export async function startCluster(redisUrl: string, n: number, env: Record<string, string> = {}, perNode: ReadonlyArray<Record<string, string>> = []): Promise<Cluster> {
  const prefix = `twc${process.pid}${Math.floor(Math.random() * 1e6)}:`;
  const nodes: Node[] = [];
  for (let i = 0; i < n; i++) nodes.push(await newNode(redisUrl, prefix, `n${i}`, { ...env, ...perNode[i] }));
  await Promise.all(nodes.map((x) => x.start()));
  return {
    nodes,
    prefix,
    token: (role, sub) => signToken(SECRET, sub, role),
    stop: async () => {
      await Promise.all(nodes.map((x) => x.stop('SIGKILL')));
      for (const x of nodes) fs.rmSync(x.env.TAXIWAY_DATA_DIR!, { recursive: true, force: true });
    },
  };
}

/** A node (not started) for an existing cluster prefix. */
export async function newNode(redisUrl: string, prefix: string, name: string, env: Record<string, string> = {}): Promise<Node> {
  return new Node(name, await freePort(), {
    REDIS_URL: redisUrl,
    TAXIWAY_REDIS_PREFIX: prefix,
    TAXIWAY_AUTH_SECRET: SECRET,
    TAXIWAY_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), `taxiway-${name}-`)),
    TAXIWAY_NODE_ID: name,
    LOG_LEVEL: 'warn',
    TAXIWAY_INDEX_REBUILD_MS: '50',
    // History stays in each node's LMDB here even when CI exports Cassandra (its tests use it directly).
    CASSANDRA_CONTACT_POINTS: '',
    // Suites written before the search window (2026-12-04) expect a job nobody can take to end at once.
    TAXIWAY_SEARCH_WINDOW_MS: '0',
    ...env,
  });
}
