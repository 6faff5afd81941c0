// The flag table parses and documents every setting; REDIS_URL is checked at once and an unreachable Redis fails the start in one line.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { ConfigError } from '../src/config/config-error.js';
import { loadConfig } from '../src/config/load-config.js';
import { SETTINGS, flagsToEnv, numberSetting } from '../src/config/settings.js';
import { SERVE_USAGE } from '../src/cli-usage.js';
import { freePort } from './helpers/redis.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECRET = 'test-secret-0123456789abcdef';

t.test('numbers come from the table: default, range, and the setting named in the error', async (t) => {
  t.equal(numberSetting({}, 'PORT'), 8080);
  t.equal(numberSetting({ PORT: '' }, 'PORT'), 8080);
  t.equal(numberSetting({ TAXIWAY_ETA_SPEED_MPS: '9.5' }, 'TAXIWAY_ETA_SPEED_MPS'), 9.5);
  t.throws(() => numberSetting({ PORT: '70000' }, 'PORT'), /PORT="70000": expected an integer from 0 to 65535/);
  t.throws(() => numberSetting({ TAXIWAY_MAX_ATTEMPTS: '1.5' }, 'TAXIWAY_MAX_ATTEMPTS'), /TAXIWAY_MAX_ATTEMPTS="1.5": expected an integer from 1 to 1000/);
  const err = ((): unknown => {
    try {
      numberSetting({ PORT: 'x' }, 'PORT');
    } catch (e) {
      return e;
    }
  })();
  t.ok(err instanceof ConfigError, 'a ConfigError (the CLI prints it as one line)');
  t.throws(() => loadConfig({ REDIS_CONNECT_TIMEOUT_MS: '5' }), /REDIS_CONNECT_TIMEOUT_MS="5"/);
  t.throws(() => loadConfig({ TAXIWAY_MIGRATE: 'yes' }), /TAXIWAY_MIGRATE=yes: expected 1 or 0/);
});

t.test('flags map onto the table, unknown flags are refused', async (t) => {
  t.same(flagsToEnv({ port: '9000', 'offer-timeout-ms': '5000' }, { HOST: 'h' }), { HOST: 'h', PORT: '9000', TAXIWAY_OFFER_TIMEOUT_MS: '5000' });
  t.throws(() => flagsToEnv({ 'redis-url': 'x' }, {}), /unknown option --redis-url/);
});

t.test('the usage text and the README table list every setting of the table', async (t) => {
  const usage = SERVE_USAGE;
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  for (const [name, s] of Object.entries(SETTINGS)) {
    t.match(usage, name, `usage lists ${name}`);
    t.match(readme, `\`${name}\``, `README lists ${name}`);
    if ('flag' in s) t.match(usage, new RegExp(`--${s.flag} \\S+[^\\n]*\\n\\s+env ${name},`), `usage pairs --${s.flag} with ${name}`);
  }
});

t.test('REDIS_URL: a wrong scheme or no host is refused at load, naming the setting', async (t) => {
  const base = { TAXIWAY_AUTH_SECRET: SECRET };
  t.throws(() => loadConfig({ ...base, REDIS_URL: 'http://x' }), /^REDIS_URL=http:\/\/x: scheme http: is not redis: or rediss:/);
  t.throws(() => loadConfig({ ...base, REDIS_URL: 'localhost:6379' }), /^REDIS_URL=localhost:6379: scheme localhost: is not redis:/);
  t.throws(() => loadConfig({ ...base, REDIS_URL: 'not a url' }), /^REDIS_URL=not a url: not a URL/);
  t.throws(() => loadConfig({ ...base, REDIS_URL: 'redis://:pw@h/abc' }), /^REDIS_URL=redis:\/\/\*\*\*@h\/abc: the path must be a database number/);
  t.equal(loadConfig({ ...base, REDIS_URL: 'rediss://user:pw@redis.example:6380/2' }).mode, 'cluster');
  t.equal(loadConfig({ ...base, REDIS_URL: 'redis://127.0.0.1' }).redisConnectTimeoutMs, 10_000);
});

/** Run the CLI with `env` (over a minimal base); resolves with exit code, stderr and elapsed ms. */
function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/taxiway.js'), ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code, stderr, ms: Date.now() - t0 }));
  });
}

t.test('taxiway serve: a bad REDIS_URL stops at once, an unreachable one after the connect timeout, each in one line', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-redis-url-'));
  t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const base = { TAXIWAY_AUTH_SECRET: SECRET, TAXIWAY_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' };

  const bad = await runCli(['serve'], { ...base, REDIS_URL: 'http://x' });
  t.equal(bad.code, 2, 'bad URL: usage error');
  t.match(bad.stderr, /^taxiway: REDIS_URL=http:\/\/x: scheme http: is not redis: or rediss:.*\n$/);
  t.equal(bad.stderr.trim().split('\n').length, 1, 'one line');
  // Generous: the shared test machine can be slow to start node; before the check this took the 15 s connect wait.
  t.ok(bad.ms < 12_000, `bad URL refused at once (${bad.ms} ms)`);

  const port = await freePort(); // nothing listens there
  const closed = await runCli(['serve'], { ...base, REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_CONNECT_TIMEOUT_MS: '500' });
  t.equal(closed.code, 1, 'unreachable Redis: start failed');
  t.match(closed.stderr, new RegExp(`^taxiway: REDIS_URL=redis://127\\.0\\.0\\.1:${port}: cannot reach Redis: not ready after 500 ms .*ECONNREFUSED.*REDIS_CONNECT_TIMEOUT_MS\\n$`));
  t.notMatch(closed.stderr, /\n\s+at /, 'no stack trace');
});
