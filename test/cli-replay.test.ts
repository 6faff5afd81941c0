// `taxiway replay` as the README runs it: against `taxiway serve` with its generated secret, no TAXIWAY_AUTH_SECRET.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { signToken } from '../src/auth/tokens.js';
import { REPO } from './helpers/cassandra.js';
import { freePort } from './helpers/redis.js';
import { http, sleep } from './helpers/server.js';

const BIN = path.join(REPO, 'bin/taxiway.js');

/** The environment of a new user's shell: no taxiway, Redis or Cassandra settings. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(TAXIWAY_|REDIS_URL|CASSANDRA_|PORT$|HOST$|LOG_LEVEL$)/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

interface Proc {
  p: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: string;
  exited: Promise<number>;
}

function taxiway(args: string[], cwd: string, env: Record<string, string>): Proc {
  const p = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: 'pipe' });
  const proc: Proc = { p, stdout: '', stderr: '', exited: new Promise((r) => p.on('close', (code) => r(code ?? 1))) };
  p.stdout.on('data', (d: Buffer) => (proc.stdout += d));
  p.stderr.on('data', (d: Buffer) => (proc.stderr += d));
  return proc;
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** The replay command line of the README's Cassandra block, split into arguments. */
function readmeReplayArgs(): string[] {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const line = /^npx taxiway (replay [^#\n]*)/m.exec(readme);
  if (!line) throw new Error('README has no `npx taxiway replay` line');
  return line[1]!.trim().split(/\s+/);
}

// The README's flow in a fresh folder: `npx taxiway serve` (data in ./data, secret generated there), then replay.
const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-replay-cli-'));
const port = await freePort();
const server = taxiway(['serve'], cwd, cleanEnv({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' }));
t.teardown(async () => {
  server.p.kill('SIGTERM');
  await server.exited;
  fs.rmSync(cwd, { recursive: true, force: true });
});
await until('the node to answer /healthz', async () => ((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok ? true : undefined));
const secret = fs.readFileSync(path.join(cwd, 'data/auth-secret'), 'utf8').trim();
const ops = await signToken(secret, 'ops-test', 'ops', 600);

async function fixesAccepted(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^taxiway_fixes_accepted_total (\S+)/m.exec(text)?.[1] ?? 0);
}

t.test("the README's replay command streams fixes signed with the node's generated secret", async (t) => {
  // As written, except the port: the test's node listens on a free one, not 8080.
  const args = readmeReplayArgs().map((a) => a.replace(/:8080\b/, `:${port}`));
  t.match(args.join(' '), /^replay .*--url ws:\/\/127\.0\.0\.1:\d+/, `README: taxiway ${readmeReplayArgs().join(' ')}`);
  const before = await fixesAccepted();
  const r = taxiway(args, cwd, cleanEnv());
  t.teardown(async () => {
    r.p.kill('SIGTERM');
    await r.exited;
  });
  const exited = r.exited.then((code) => `exited with ${code}: ${r.stderr.trim().split('\n')[0]}`);
  const outcome = await Promise.race([
    exited,
    until('accepted replay fixes', async () => ((await fixesAccepted()) > before + 50 ? 'streaming' : undefined)),
  ]);
  t.equal(outcome, 'streaming', 'the node accepts the replayed fixes');
  t.match(r.stdout, /^replay: \d+ fixes of \d+ taxis/);
  // stderr is a pipe here: progress comes as plain lines, never carriage returns.
  await until('a progress line', () => (/fixes sent/.test(r.stderr) ? true : undefined), 20_000);
  t.notMatch(r.stderr, /\r/, 'no carriage returns in piped progress');
  t.match(r.stderr, /^replay: \d+\/\d+ fixes sent \(\d+%\)\n/m);
});

t.test('--available: replayed taxis porto-<TAXI_ID> are available to dispatch and nearby', async (t) => {
  // Speed 1: fixes stamped as sent, so fresh enough for nearby (faster replays stamp them in the past).
  const r = taxiway(['replay', '--available', '--taxis', '5', '--speed', '1', '--url', `ws://127.0.0.1:${port}`], cwd, cleanEnv());
  t.teardown(async () => {
    r.p.kill('SIGTERM');
    await r.exited;
  });
  const ids = await until('available porto taxis near Porto', async () => {
    const res = await http('GET', `http://127.0.0.1:${port}/v1/drivers/nearby?lat=41.16&lng=-8.62&radius_m=50000&limit=50`, ops);
    const found = (res.body?.drivers ?? []).map((d: { id: string }) => d.id).filter((id: string) => id.startsWith('porto-'));
    return found.length > 0 ? found : undefined;
  }, 30_000);
  for (const id of ids) t.match(id, /^porto-\d+$/, `${id} is named porto-<TAXI_ID>`);
});

t.test('without a secret anywhere, replay says how to give it', async (t) => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-replay-nosecret-'));
  t.teardown(() => fs.rmSync(empty, { recursive: true, force: true }));
  const r = taxiway(['replay', '--url', `ws://127.0.0.1:${port}`], empty, cleanEnv());
  t.equal(await r.exited, 2);
  t.match(r.stderr, /TAXIWAY_AUTH_SECRET.*--data-dir/);
  t.notOk(fs.existsSync(path.join(empty, 'data/auth-secret')), 'no secret of its own was created');
});
