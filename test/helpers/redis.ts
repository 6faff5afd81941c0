// Real Redis for tests: REDIS_URL if given, else a redis-server this helper starts; skip (or fail in CI) otherwise.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';

export const REQUIRE_SERVICES = process.env.TAXIWAY_REQUIRE_SERVICES === '1';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** A redis-server process owned by a test (so it can be stopped and restarted). */
export class RedisServer {
  proc: ChildProcess | null = null;
  /** `args`: extra redis-server arguments (e.g. `--replicaof 127.0.0.1 6379`). */
  private constructor(readonly port: number, private readonly dir: string, private readonly args: readonly string[] = []) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static available(): boolean {
    return spawnSync('redis-server', ['--version']).status === 0;
  }

  static async start(port?: number, args: readonly string[] = []): Promise<RedisServer> {
    const p = port ?? (await freePort());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-redis-'));
    const s = new RedisServer(p, dir, args);
    await s.restart();
    return s;
  }

  async restart(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...this.args], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => {});
      try {
        await r.connect();
        await r.ping();
        r.disconnect();
        return;
      } catch {
        r.disconnect();
        if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start`);
        await new Promise((res) => setTimeout(res, 50));
      }
    }
  }

  /** Stop the server (SIGKILL: data is not persisted anyway). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
    this.proc = null;
  }

  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

let shared: Promise<{ url: string; server?: RedisServer } | null> | null = null;

/**
 * The Redis URL tests use: REDIS_URL, else a redis-server started for this test process.
 * null (with a reason on stderr) when neither is possible and services are not required.
 */
export function testRedisUrl(): Promise<string | null> {
  shared ??= (async () => {
    if (process.env.REDIS_URL) return { url: process.env.REDIS_URL };
    if (RedisServer.available()) {
      const server = await RedisServer.start();
      process.once('exit', () => server.proc?.kill('SIGKILL'));
      return { url: server.url, server };
    }
    if (REQUIRE_SERVICES) throw new Error('Redis is required (TAXIWAY_REQUIRE_SERVICES=1) but REDIS_URL is unset and redis-server is not installed');
    return null;
  })();
  return shared.then((s) => s?.url ?? null);
}

/** Skip reason when Redis is unavailable (tap's `skip` option), else false. */
export async function redisSkip(): Promise<string | false> {
  return (await testRedisUrl()) ? false : 'no Redis: set REDIS_URL or install redis-server';
}

/** A key prefix unique to one test, so tests never see each other's keys. */
export function testPrefix(): string {
  return `twtest:${crypto.randomBytes(4).toString('hex')}:`;
}

/** Stop the helper-owned redis-server, if any (call from t.teardown of the last Redis test in a file). */
export async function stopTestRedis(): Promise<void> {
  const s = await shared;
  await s?.server?.destroy();
  shared = null;
}
