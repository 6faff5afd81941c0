// REDIS_CLUSTER_NODES: parsed at load with errors naming the settings; cluster nodes that do not answer (or a server
// that is not a cluster) stop `taxiway serve` in one line naming REDIS_CLUSTER_NODES within REDIS_CONNECT_TIMEOUT_MS.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loadConfig } from '../src/config/load-config.js';
import { RedisServer, freePort } from './helpers/redis.js';
import { RedisClusterSetup } from './helpers/redis-cluster.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECRET = 'test-secret-0123456789abcdef';
const base = { TAXIWAY_AUTH_SECRET: SECRET };

t.test('REDIS_CLUSTER_NODES selects cluster mode on a Redis Cluster; job writes wait for one replica by default', async (t) => {
  const c = loadConfig({ ...base, REDIS_CLUSTER_NODES: '10.0.0.1:6379, redis-b.example:6380,[::1]:6381', REDIS_PASSWORD: 'pw', REDIS_TLS: '1' });
  t.equal(c.mode, 'cluster');
  t.same(c.redis, { kind: 'cluster', password: 'pw', tls: true, nodes: [{ host: '10.0.0.1', port: 6379 }, { host: 'redis-b.example', port: 6380 }, { host: '::1', port: 6381 }] });
  t.same(c.commitDurability, { replicas: 1, timeoutMs: 50 });
  t.same(loadConfig({ ...base, REDIS_CLUSTER_NODES: 'h:1', TAXIWAY_REDIS_WAIT_REPLICAS: '0' }).commitDurability.replicas, 0);
});

t.test('bad Redis Cluster configuration is refused at load, naming the settings', async (t) => {
  t.throws(() => loadConfig({ ...base, REDIS_CLUSTER_NODES: 'h:1', REDIS_URL: 'redis://h' }), /^REDIS_CLUSTER_NODES and REDIS_URL are both set: set one/);
  t.throws(() => loadConfig({ ...base, REDIS_CLUSTER_NODES: 'h:1', REDIS_SENTINELS: 's:1', REDIS_SENTINEL_NAME: 'm' }), /^REDIS_CLUSTER_NODES and REDIS_SENTINELS are both set: set one/);
  t.throws(() => loadConfig({ ...base, REDIS_CLUSTER_NODES: 'h:1', REDIS_SENTINEL_NAME: 'm' }), /^REDIS_SENTINEL_NAME is set with REDIS_CLUSTER_NODES: REDIS_SENTINEL_NAME applies to Sentinel only/);
  t.throws(() => loadConfig({ ...base, REDIS_CLUSTER_NODES: '10.0.0.1' }), /^REDIS_CLUSTER_NODES=10\.0\.0\.1: "10\.0\.0\.1" is not host:port \(expected host:port\[,host:port\.\.\.\], e\.g\. 10\.0\.0\.1:6379/);
  t.throws(() => loadConfig({ ...base, REDIS_CLUSTER_NODES: 'a:1,b:70000' }), /^REDIS_CLUSTER_NODES=a:1,b:70000: "b:70000" is not host:port/);
  t.throws(() => loadConfig({ ...base, REDIS_URL: 'redis://h', TAXIWAY_REDIS_PREFIX: 'tw{x}:' }), /^TAXIWAY_REDIS_PREFIX=tw\{x\}:: must not contain \{ or \}/);
});

/** Run `taxiway serve` with `env` until it exits; its exit code, stderr and run time. */
function serve(env: Record<string, string>): Promise<{ code: number | null; stderr: string; ms: number }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-cfg-cluster-'));
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/taxiway.js'), 'serve'], {
      env: { PATH: process.env.PATH ?? '', TAXIWAY_AUTH_SECRET: SECRET, TAXIWAY_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => {
      fs.rmSync(dataDir, { recursive: true, force: true });
      resolve({ code, stderr, ms: Date.now() - t0 });
    });
  });
}

t.test('taxiway serve: unreachable cluster nodes stop the start after the connect timeout, in one line naming REDIS_CLUSTER_NODES', async (t) => {
  const bad = await serve({ REDIS_CLUSTER_NODES: '127.0.0.1:6379,oops' });
  t.equal(bad.code, 2, 'usage error');
  t.match(bad.stderr, /^taxiway: REDIS_CLUSTER_NODES=127\.0\.0\.1:6379,oops: "oops" is not host:port.*\n$/);
  const [p1, p2] = [await freePort(), await freePort()]; // nothing listens there
  const none = await serve({ REDIS_CLUSTER_NODES: `127.0.0.1:${p1},127.0.0.1:${p2}`, REDIS_CONNECT_TIMEOUT_MS: '800' });
  t.equal(none.code, 1, 'start failed');
  t.match(none.stderr, new RegExp(`^taxiway: REDIS_CLUSTER_NODES=127\\.0\\.0\\.1:${p1},127\\.0\\.0\\.1:${p2}: cannot reach the Redis Cluster: not ready after 800 ms .*REDIS_CONNECT_TIMEOUT_MS\\n$`));
  t.notMatch(none.stderr, /\n\s+at /, 'no stack trace');
  // 800 ms of waiting plus the process's start, which takes 2-20 s on a loaded 2-core machine: no hang.
  t.ok(none.ms < 40_000, `bounded by the timeout (${none.ms} ms)`);
  t.comment(none.stderr.trim());
});

const skip = RedisClusterSetup.skip();
t.test('taxiway serve: a plain Redis server given as a cluster node stops the start in one line naming REDIS_CLUSTER_NODES', { skip }, async (t) => {
  const plain = await RedisServer.start();
  t.teardown(() => plain.destroy());
  const res = await serve({ REDIS_CLUSTER_NODES: `127.0.0.1:${plain.port}`, REDIS_CONNECT_TIMEOUT_MS: '800' });
  t.equal(res.code, 1, 'start failed');
  t.match(res.stderr, new RegExp(`^taxiway: REDIS_CLUSTER_NODES=127\\.0\\.0\\.1:${plain.port}: cannot reach the Redis Cluster: not ready after 800 ms.*\\n$`));
  t.notMatch(res.stderr, /\n\s+at /, 'no stack trace');
  t.comment(res.stderr.trim());
});
