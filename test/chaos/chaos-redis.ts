// Chaos: Redis primary + replica + 3 Sentinels, each Redis behind a StallProxy so a network stall can be injected.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { RedisServer, freePort } from '../helpers/redis.js';
import { sleep } from '../helpers/server.js';
import { StallProxy } from './tcp-proxy.js';

/** Sentinel's down-after-milliseconds: longer than the injected stall, so a stall is a stall and not a failover, ms. */
export const DOWN_AFTER_MS = 5000;

async function ask<T>(port: number, f: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return await f(r);
  } finally {
    r.disconnect();
  }
}

/**
 * Everything reaches each Redis server through its proxy (the Sentinels too: they hand out the address
 * they monitor, and a replica announces its proxy's port), so a stall cuts nodes, replication and
 * Sentinels alike; it is kept shorter than DOWN_AFTER_MS.
 */
export class ChaosRedis {
  readonly name = 'chaos';
  private readonly sentinels: ChildProcess[] = [];
  readonly sentinelPorts: number[] = [];
  private constructor(readonly servers: RedisServer[], readonly proxies: StallProxy[], private readonly dir: string) {}

  static async start(): Promise<ChaosRedis> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-chaos-redis-'));
    const real = [await freePort(), await freePort()];
    const front = [await freePort(), await freePort()];
    const proxies = [await StallProxy.start(front[0]!, real[0]!), await StallProxy.start(front[1]!, real[1]!)];
    const args = (i: number): string[] => ['--repl-diskless-sync-delay', '0', '--replica-announce-ip', '127.0.0.1', '--replica-announce-port', String(front[i])];
    const primary = await RedisServer.start(real[0], args(0));
    const replica = await RedisServer.start(real[1], [...args(1), '--replicaof', '127.0.0.1', String(front[0])]);
    const r = new ChaosRedis([primary, replica], proxies, dir);
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const sdir = path.join(dir, `s${i}`);
      fs.mkdirSync(sdir);
      const conf = path.join(sdir, 'sentinel.conf');
      fs.writeFileSync(conf, [`port ${port}`, 'bind 127.0.0.1', `dir ${sdir}`, `sentinel monitor ${r.name} 127.0.0.1 ${front[0]} 2`,
        `sentinel down-after-milliseconds ${r.name} ${DOWN_AFTER_MS}`, `sentinel failover-timeout ${r.name} 10000`, `sentinel parallel-syncs ${r.name} 1`, ''].join('\n'));
      const p = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
      process.once('exit', () => p.kill('SIGKILL'));
      r.sentinels.push(p);
      r.sentinelPorts.push(port);
    }
    await r.until('Sentinels see the replica and each other', 30_000, async () => {
      for (const port of r.sentinelPorts) {
        const ok = await ask(port, async (c) => ((await c.call('SENTINEL', 'REPLICAS', r.name)) as unknown[]).length >= 1 && ((await c.call('SENTINEL', 'SENTINELS', r.name)) as unknown[]).length >= 2);
        if (!ok) return false;
      }
      return true;
    });
    return r;
  }

  get env(): Record<string, string> {
    return { REDIS_URL: '', REDIS_SENTINELS: this.sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','), REDIS_SENTINEL_NAME: this.name };
  }

  async until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
    const end = Date.now() + ms;
    while (!(await check().catch(() => false))) {
      if (Date.now() > end) throw new Error(`chaos redis: ${what} not within ${ms} ms`);
      await sleep(100);
    }
  }

  /** The proxy port the Sentinels name as primary. */
  async primaryFront(): Promise<number> {
    for (const port of this.sentinelPorts) {
      const a = await ask(port, (c) => c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name)).catch(() => null);
      if (a) return Number((a as string[])[1]);
    }
    throw new Error('no Sentinel answered');
  }

  /** SIGKILL the primary; resolves once another server answers as primary (ms after the kill). */
  async killPrimary(): Promise<{ index: number; ms: number }> {
    const front = await this.primaryFront();
    const index = this.proxies.findIndex((p) => p.port === front);
    const t0 = Date.now();
    await this.servers[index]!.stop();
    await this.until('failover', 60_000, async () => {
      const f = await this.primaryFront();
      return f !== front && (await ask(f, async (c) => /role:master/.test(await c.info('replication'))));
    });
    return { index, ms: Date.now() - t0 };
  }

  /** Restart a killed server; the Sentinels make it a replica of the new primary. Resolves once it is in sync. */
  async rejoin(index: number): Promise<void> {
    await this.servers[index]!.restart();
    await this.until('the old primary back as an in-sync replica', 60_000, async () => {
      const f = await this.primaryFront();
      return ask(f, async (c) => Number(/connected_slaves:(\d+)/.exec(await c.info('replication'))?.[1] ?? 0) >= 1);
    });
  }

  /** Stall every Redis server's traffic for ms. */
  stall(ms: number): void {
    for (const p of this.proxies) p.stall(ms);
  }

  async destroy(): Promise<void> {
    for (const p of this.sentinels) if (p.exitCode === null && p.signalCode === null) await new Promise<void>((r) => { p.once('exit', () => r()); p.kill('SIGKILL'); });
    for (const s of this.servers) await s.destroy();
    for (const p of this.proxies) await p.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
