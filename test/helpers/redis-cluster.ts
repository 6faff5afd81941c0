// Real Redis Cluster for tests: 3 primaries (`redis-server --cluster-enabled yes`) on free ports, joined by `redis-cli --cluster create`.
import { spawn, spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import type { RedisTarget } from '../../src/config/redis-settings.js';
import { hashSlot } from '../../src/storage/redis-keys.js';
import { RedisServer, freePort } from './redis.js';
import { skipOrFail } from './services.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A short-lived plain connection to one node (no retries): for the helper's own checks. */
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

/** A test Redis Cluster: primaries (and optionally one replica each), each server with its own port, cluster-bus port and directory. */
export class RedisClusterSetup {
  private constructor(readonly servers: RedisServer[]) {}

  /** Skip reason when redis-server or redis-cli is missing (or throw when services are required), else false. */
  static skip(): string | false {
    if (!RedisServer.available()) return skipOrFail('Redis Cluster', 'redis-server is not installed');
    if (spawnSync('redis-cli', ['--version']).status !== 0) return skipOrFail('Redis Cluster', 'redis-cli is not installed');
    return false;
  }

  /**
   * Start `n` (≥ 3: Redis Cluster's minimum of primaries) cluster-enabled primaries, and `replicas` replicas
   * of each, join them, wait for cluster_state:ok.
   */
  static async start(n = 3, replicas = 0): Promise<RedisClusterSetup> {
    const servers: RedisServer[] = [];
    try {
      for (let i = 0; i < n * (1 + replicas); i++) {
        const busPort = await freePort();
        servers.push(await RedisServer.start(undefined, [
          '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(busPort),
          '--cluster-node-timeout', '2000',
          // Without it a replica waits 5 s for its first full sync (Redis 7's diskless default).
          '--repl-diskless-sync-delay', '0',
        ]));
      }
      const args = ['--cluster', 'create', ...servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'];
      const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
        const p = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let text = '';
        p.stdout.on('data', (d: Buffer) => (text += d.toString()));
        p.stderr.on('data', (d: Buffer) => (text += d.toString()));
        p.on('exit', (code) => resolve({ code, text }));
      });
      if (out.code !== 0) throw new Error(`redis-cli --cluster create failed (${out.code}): ${out.text}`);
      const end = Date.now() + 30_000;
      for (const s of servers) {
        for (;;) {
          const ok = await once(s.port, async (r) => /cluster_state:ok/.test(await r.cluster('INFO') as string)).catch(() => false);
          if (ok) break;
          if (Date.now() > end) throw new Error(`redis cluster: node ${s.port} not cluster_state:ok within 30 s`);
          await sleep(100);
        }
      }
      // Every replica in sync with its primary before the test writes (WAIT counts only synced replicas).
      for (const s of servers) {
        for (;;) {
          const info = await once(s.port, (r) => r.info('replication')).catch(() => '');
          if (/role:master/.test(info) ? Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0) >= replicas && !/state=(wait_bgsave|send_bulk)/.test(info) : /master_link_status:up/.test(info)) break;
          if (Date.now() > end) throw new Error(`redis cluster: replication of ${s.port} not in sync within 30 s`);
          await sleep(100);
        }
      }
      // INFO can call a replica in sync before it acknowledges the stream (its first ack follows the load of
      // the initial sync): until then a WAIT after a write times out. A write and WAIT on each primary, until
      // its replicas acknowledge it, makes "acknowledged" mean the same from the test's first write on.
      if (replicas > 0) {
        const setup = new RedisClusterSetup(servers);
        const probed = new Set<number>();
        for (let i = 0; probed.size < n && i < 100_000; i++) {
          const key = `taxiway-probe-${i}`;
          const port = await setup.portOfSlot(hashSlot(key));
          if (probed.has(port)) continue;
          probed.add(port);
          for (;;) {
            const acked = await once(port, async (r) => { await r.set(key, '1'); return r.wait(replicas, 1000); }).catch(() => 0);
            if (acked >= replicas) break;
            if (Date.now() > end) throw new Error(`redis cluster: the replicas of ${port} did not acknowledge a write within 30 s`);
            await sleep(100);
          }
        }
      }
      return new RedisClusterSetup(servers);
    } catch (e) {
      for (const s of servers) await s.destroy();
      throw e;
    }
  }

  /** The target a node is given (as REDIS_CLUSTER_NODES would give it). */
  get target(): RedisTarget {
    return { kind: 'cluster', nodes: this.servers.map((s) => ({ host: '127.0.0.1', port: s.port })), tls: false };
  }

  /** Environment of a taxiway node on this cluster (REDIS_URL cleared; no replicas to WAIT for). */
  get env(): Record<string, string> {
    return { REDIS_URL: '', REDIS_CLUSTER_NODES: this.servers.map((s) => `127.0.0.1:${s.port}`).join(','), TAXIWAY_REDIS_WAIT_REPLICAS: '0' };
  }

  /** The port of the primary serving `slot` (from CLUSTER SLOTS of the first node). */
  async portOfSlot(slot: number): Promise<number> {
    const slots = await once(this.servers[0]!.port, (r) => r.cluster('SLOTS'));
    const hit = slots.find(([a, b]) => slot >= a && slot <= b);
    if (!hit?.[2]) throw new Error(`no node serves slot ${slot}`);
    return hit[2][1];
  }

  /** SIGKILL the primary serving `slot` and wait until a replica serves it and the cluster is ok again; ms it took. */
  async killPrimaryOf(slot: number, timeoutMs = 30_000): Promise<{ ms: number; port: number }> {
    const port = await this.portOfSlot(slot);
    const victim = this.servers.find((s) => s.port === port)!;
    const t0 = Date.now();
    await victim.stop();
    const alive = this.servers.filter((s) => s !== victim);
    for (;;) {
      const ok = await once(alive[0]!.port, async (r) => {
        if (!/cluster_state:ok/.test((await r.cluster('INFO')) as string)) return false;
        const slots = await r.cluster('SLOTS');
        const hit = slots.find(([a, b]) => slot >= a && slot <= b);
        return hit?.[2] !== undefined && hit[2][1] !== port;
      }).catch(() => false);
      if (ok) return { ms: Date.now() - t0, port };
      if (Date.now() - t0 > timeoutMs) throw new Error(`redis cluster: slot ${slot} not failed over within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  async destroy(): Promise<void> {
    for (const s of this.servers) await s.destroy();
  }
}
