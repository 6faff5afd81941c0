// Real Redis Sentinel for tests: a primary, a replica and 3 Sentinels (`redis-server --sentinel`) on free ports, torn down by the test.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { RedisTarget } from '../../src/config/redis-settings.js';
import { RedisServer, freePort } from './redis.js';
import { skipOrFail } from './services.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A short-lived connection to one port (no retries): for the helper's own checks. */
async function once<T>(port: number, f: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return await f(r);
  } finally {
    r.disconnect();
  }
}

/** Poll `check` every 100 ms until it is true, or throw `what` after `timeoutMs`. */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`sentinel setup: ${what} not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

export interface SentinelOptions {
  /** Sentinel's `down-after-milliseconds`: how long a silent primary takes to be declared down, ms. */
  downAfterMs?: number;
  /** Sentinel's `failover-timeout`, ms. */
  failoverTimeoutMs?: number;
}

/** Primary + replica + 3 Sentinels (quorum 2). Every process has its own port and writable directory. */
export class SentinelSetup {
  readonly name = 'twmaster';
  private constructor(
    readonly servers: RedisServer[],
    readonly sentinelPorts: number[],
    private readonly sentinels: ChildProcess[],
    private readonly dir: string,
  ) {}

  /** Skip reason when redis-server is missing (or throw when services are required), else false. */
  static skip(): string | false {
    return RedisServer.available() ? false : skipOrFail('Redis Sentinel', 'redis-server is not installed');
  }

  static async start(o: SentinelOptions = {}): Promise<SentinelSetup> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-sentinel-'));
    // Without the delay a replica waits 5 s for its first full sync (Redis 7's diskless default).
    const fast = ['--repl-diskless-sync-delay', '0'];
    const primary = await RedisServer.start(undefined, fast);
    const replica = await RedisServer.start(undefined, [...fast, '--replicaof', '127.0.0.1', String(primary.port)]);
    const setup = new SentinelSetup([primary, replica], [], [], dir);
    try {
      await until('replica in sync', 15_000, () => once(replica.port, async (r) => /master_link_status:up/.test(await r.info('replication'))));
      for (let i = 0; i < 3; i++) {
        const port = await freePort();
        const sdir = path.join(dir, `s${i}`);
        fs.mkdirSync(sdir);
        // A Sentinel rewrites its config file: each needs a writable file of its own.
        const conf = path.join(sdir, 'sentinel.conf');
        fs.writeFileSync(conf, [
          `port ${port}`, 'bind 127.0.0.1', `dir ${sdir}`,
          `sentinel monitor ${setup.name} 127.0.0.1 ${primary.port} 2`,
          `sentinel down-after-milliseconds ${setup.name} ${o.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${setup.name} ${o.failoverTimeoutMs ?? 5000}`,
          `sentinel parallel-syncs ${setup.name} 1`, '',
        ].join('\n'));
        const proc = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
        process.once('exit', () => proc.kill('SIGKILL'));
        setup.sentinels.push(proc);
        setup.sentinelPorts.push(port);
      }
      // Ready when every Sentinel knows the replica and the two other Sentinels (else no failover can happen).
      for (const port of setup.sentinelPorts) {
        await until(`sentinel ${port} sees the replica and its peers`, 20_000, () => once(port, async (r) => {
          const replicas = (await r.call('SENTINEL', 'REPLICAS', setup.name)) as unknown[];
          const peers = (await r.call('SENTINEL', 'SENTINELS', setup.name)) as unknown[];
          return replicas.length >= 1 && peers.length >= 2;
        }));
      }
    } catch (e) {
      await setup.destroy();
      throw e;
    }
    return setup;
  }

  /** The target a node is given (as REDIS_SENTINELS + REDIS_SENTINEL_NAME would give it). */
  get target(): RedisTarget {
    return { kind: 'sentinel', sentinels: this.sentinelPorts.map((port) => ({ host: '127.0.0.1', port })), name: this.name, tls: false };
  }

  /** The environment of a node using this Sentinel setup. */
  get env(): Record<string, string> {
    return { REDIS_URL: '', REDIS_SENTINELS: this.sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','), REDIS_SENTINEL_NAME: this.name };
  }

  /** The port of the primary the first answering Sentinel reports. */
  async primaryPort(): Promise<number> {
    for (const port of this.sentinelPorts) {
      try {
        const addr = (await once(port, (r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name))) as [string, string];
        return Number(addr[1]);
      } catch {
        /* next Sentinel */
      }
    }
    throw new Error('no Sentinel answered');
  }

  /** The server currently primary. */
  async primary(): Promise<RedisServer> {
    const port = await this.primaryPort();
    const s = this.servers.find((x) => x.port === port);
    if (!s) throw new Error(`primary on unknown port ${port}`);
    return s;
  }

  /**
   * SIGKILL the primary, then wait until the Sentinels name another one and it answers as a primary.
   * Resolves with the ms from the kill to the new primary's promotion as seen from here.
   */
  async killPrimaryAndWaitFailover(timeoutMs = 30_000): Promise<{ old: RedisServer; ms: number }> {
    const old = await this.primary();
    const t0 = Date.now();
    await old.stop();
    await until('failover', timeoutMs, async () => {
      const port = await this.primaryPort();
      return port !== old.port && (await once(port, async (r) => /role:master/.test(await r.info('replication'))));
    });
    return { old, ms: Date.now() - t0 };
  }

  /** Wait until the current primary has `n` replicas in sync. */
  async waitReplicas(n: number, timeoutMs = 20_000): Promise<void> {
    await until(`${n} replica(s) in sync`, timeoutMs, async () => {
      const port = await this.primaryPort();
      return once(port, async (r) => Number(/connected_slaves:(\d+)/.exec(await r.info('replication'))?.[1] ?? 0) >= n);
    });
  }

  async destroy(): Promise<void> {
    for (const p of this.sentinels) {
      if (p.exitCode === null && p.signalCode === null) {
        await new Promise<void>((resolve) => {
          p.once('exit', () => resolve());
          p.kill('SIGKILL');
        });
      }
    }
    for (const s of this.servers) await s.destroy();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
