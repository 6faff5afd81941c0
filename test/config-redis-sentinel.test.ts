// REDIS_SENTINELS and friends: parsed at load with errors naming the setting; a Sentinel list that leads nowhere
// (nothing listening, an unknown primary name) stops `taxiway serve` in one line within REDIS_CONNECT_TIMEOUT_MS.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loadConfig } from '../src/config/load-config.js';
import { freePort } from './helpers/redis.js';
import { SentinelSetup } from './helpers/redis-sentinel.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECRET = 'test-secret-0123456789abcdef';
const base = { TAXIWAY_AUTH_SECRET: SECRET };

t.test('REDIS_SENTINELS + REDIS_SENTINEL_NAME select cluster mode through Sentinel; job writes wait for one replica by default', async (t) => {
  const c = loadConfig({ ...base, REDIS_SENTINELS: '10.0.0.1:26379, sentinel-b.example:26380,[::1]:26381', REDIS_SENTINEL_NAME: 'mymaster', REDIS_PASSWORD: 'pw', REDIS_SENTINEL_PASSWORD: 'spw', REDIS_TLS: '1' });
  t.equal(c.mode, 'cluster');
  t.same(c.redis, {
    kind: 'sentinel', name: 'mymaster', password: 'pw', sentinelPassword: 'spw', tls: true,
    sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: 'sentinel-b.example', port: 26380 }, { host: '::1', port: 26381 }],
  });
  t.same(c.commitDurability, { replicas: 1, timeoutMs: 50 });
  t.same(loadConfig({ ...base, REDIS_URL: 'redis://h' }).commitDurability, { replicas: 0, timeoutMs: 50 }, 'a lone server has no replica to wait for');
  t.same(loadConfig({ ...base, REDIS_URL: 'redis://h', TAXIWAY_REDIS_WAIT_REPLICAS: '2', TAXIWAY_REDIS_WAIT_MS: '20' }).commitDurability, { replicas: 2, timeoutMs: 20 });
  t.same(loadConfig({ ...base, REDIS_SENTINELS: 'h:1', REDIS_SENTINEL_NAME: 'm', TAXIWAY_REDIS_WAIT_REPLICAS: '0' }).commitDurability.replicas, 0, '0 turns WAIT off');
  t.equal(loadConfig({}).mode, 'embedded');
});

t.test('bad Sentinel configuration is refused at load, naming the setting', async (t) => {
  const s = { ...base, REDIS_SENTINEL_NAME: 'm' };
  t.throws(() => loadConfig({ ...s, REDIS_SENTINELS: 'h:1', REDIS_URL: 'redis://h' }), /^REDIS_URL and REDIS_SENTINELS are both set: set one/);
  t.throws(() => loadConfig({ ...base, REDIS_SENTINELS: 'h:1' }), /^REDIS_SENTINELS is set but REDIS_SENTINEL_NAME is not/);
  t.throws(() => loadConfig({ ...s, REDIS_SENTINELS: '10.0.0.1' }), /^REDIS_SENTINELS=10\.0\.0\.1: "10\.0\.0\.1" is not host:port/);
  t.throws(() => loadConfig({ ...s, REDIS_SENTINELS: 'a:26379,b:99999' }), /^REDIS_SENTINELS=a:26379,b:99999: "b:99999" is not host:port/);
  t.throws(() => loadConfig({ ...s, REDIS_SENTINELS: 'a:26379,,b:1' }), /^REDIS_SENTINELS=.*: "" is not host:port/);
  t.throws(() => loadConfig({ ...s, REDIS_SENTINELS: 'redis://a:26379' }), /^REDIS_SENTINELS=redis:\/\/a:26379: "redis:\/\/a:26379" is not host:port/);
  t.throws(() => loadConfig({ ...base, REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'bad name' }), /^REDIS_SENTINEL_NAME=bad name: expected/);
  t.throws(() => loadConfig({ ...base, REDIS_SENTINEL_NAME: 'm' }), /^REDIS_SENTINEL_NAME is set but REDIS_SENTINELS is not/);
  t.throws(() => loadConfig({ ...base, REDIS_URL: 'redis://h', REDIS_SENTINEL_NAME: 'm' }), /^REDIS_SENTINEL_NAME is set but REDIS_SENTINELS is not/);
  t.throws(() => loadConfig({ ...base, REDIS_URL: 'redis://h', REDIS_PASSWORD: 'x' }), /^REDIS_PASSWORD is set with REDIS_URL: put the password in the URL/);
  t.throws(() => loadConfig({ ...base, REDIS_URL: 'redis://h', REDIS_TLS: '1' }), /^REDIS_TLS=1 is set with REDIS_URL: use a rediss:\/\/ URL/);
  t.throws(() => loadConfig({ ...s, REDIS_SENTINELS: 'h:1', REDIS_TLS: 'yes' }), /^REDIS_TLS=yes: expected 1 or 0/);
  t.throws(() => loadConfig({ ...s, REDIS_SENTINELS: 'h:1', TAXIWAY_REDIS_WAIT_REPLICAS: '17' }), /^TAXIWAY_REDIS_WAIT_REPLICAS="17": expected an integer from 0 to 16/);
  t.throws(() => loadConfig({ ...s, REDIS_SENTINELS: 'h:1', TAXIWAY_REDIS_WAIT_MS: '0' }), /^TAXIWAY_REDIS_WAIT_MS="0": expected an integer from 1 to 10000/);
  t.throws(() => loadConfig({ REDIS_SENTINELS: 'h:1', REDIS_SENTINEL_NAME: 'm' }), /TAXIWAY_AUTH_SECRET is required in cluster mode/);
});

/** Run `taxiway serve` with `env` (over a minimal base); resolves with exit code, stderr and elapsed ms. */
function serve(env: Record<string, string>): Promise<{ code: number | null; stderr: string; ms: number }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-sentinel-cfg-'));
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

t.test('taxiway serve: a bad Sentinel list stops at once; unreachable Sentinels after the connect timeout, in one line', async (t) => {
  const bad = await serve({ REDIS_SENTINELS: '127.0.0.1:26379,oops', REDIS_SENTINEL_NAME: 'm' });
  t.equal(bad.code, 2, 'usage error');
  t.match(bad.stderr, /^taxiway: REDIS_SENTINELS=127\.0\.0\.1:26379,oops: "oops" is not host:port.*\n$/);
  const both = await serve({ REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_NAME: 'm', REDIS_URL: 'redis://127.0.0.1' });
  t.equal(both.code, 2);
  t.match(both.stderr, /^taxiway: REDIS_URL and REDIS_SENTINELS are both set/);

  const [p1, p2] = [await freePort(), await freePort()]; // nothing listens there
  const none = await serve({ REDIS_SENTINELS: `127.0.0.1:${p1},127.0.0.1:${p2}`, REDIS_SENTINEL_NAME: 'm', REDIS_CONNECT_TIMEOUT_MS: '800' });
  t.equal(none.code, 1, 'start failed');
  t.match(none.stderr, new RegExp(`^taxiway: REDIS_SENTINELS=127\\.0\\.0\\.1:${p1},127\\.0\\.0\\.1:${p2} \\(REDIS_SENTINEL_NAME=m\\): cannot reach the Redis primary through Sentinel: not ready after 800 ms .*REDIS_CONNECT_TIMEOUT_MS\\n$`));
  t.notMatch(none.stderr, /\n\s+at /, 'no stack trace');
  t.ok(none.ms < 10_000, `bounded by the timeout (${none.ms} ms)`);
});

const skip = SentinelSetup.skip();
t.test('taxiway serve: a primary name the Sentinels do not know stops the start in one line naming REDIS_SENTINEL_NAME', { skip }, async (t) => {
  const setup = await SentinelSetup.start();
  t.teardown(() => setup.destroy());
  const res = await serve({ ...setup.env, REDIS_SENTINEL_NAME: 'nosuchmaster', REDIS_CONNECT_TIMEOUT_MS: '800' });
  t.equal(res.code, 1, 'start failed');
  t.match(res.stderr, /^taxiway: REDIS_SENTINEL_NAME=nosuchmaster: the Sentinels at REDIS_SENTINELS answer but monitor no primary of that name \(not ready after 800 ms.*No such master.*\)\n$/);
  t.notMatch(res.stderr, /\n\s+at /, 'no stack trace');
  t.comment(res.stderr.trim());
});
