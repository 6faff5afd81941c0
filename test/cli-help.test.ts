// `taxiway <command> --help` / `-h`: every command prints its usage and exits 0; serve's lists the README's settings.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { REPO } from './helpers/cassandra.js';

const BIN = path.join(REPO, 'bin/taxiway.js');

type Run = { code: number; stdout: string; stderr: string };
const runs = new Map<string, Promise<Run>>();

/** Runs `taxiway ...args` (once per distinct command line) and collects its exit code and output. */
function taxiway(args: string[]): Promise<Run> {
  const key = JSON.stringify(args);
  let run = runs.get(key);
  if (!run) runs.set(key, (run = spawnTaxiway(args)));
  return run;
}

function spawnTaxiway(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** Rows of the README's configuration table: variables, flag (or ''), default. */
function readmeSettings(): Array<{ envs: string[]; flag: string; def: string }> {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('| variable | flag | default | meaning |'));
  const lines = table.split('\n').slice(2);
  const rows = lines.slice(0, lines.findIndex((l) => !l.startsWith('|')));
  return rows.map((l) => {
    const [vars, flag, def] = l.split('|').slice(1, 4).map((c) => c.trim());
    return { envs: [...vars!.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]!), flag: flag!.replace(/`/g, ''), def: def!.replace(/`/g, '') };
  });
}

for (const cmd of ['serve', 'token', 'demo', 'replay', 'migrate', 'eta-eval', 'bench']) {
  t.test(`taxiway ${cmd} --help and -h print its usage and exit 0`, async (t) => {
    for (const h of ['--help', '-h']) {
      const r = await taxiway([cmd, h]);
      t.equal(r.code, 0, `${cmd} ${h}: exit 0 (stderr: ${r.stderr.trim()})`);
      t.match(r.stdout, new RegExp(`usage: taxiway ${cmd}`), `${cmd} ${h}: its own usage`);
    }
  });
}

t.test('--help wins over other options, even ones that would fail', async (t) => {
  const r = await taxiway(['serve', '--port', 'nope', '--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, /usage: taxiway serve/);
  const tok = await taxiway(['token', '--role', 'driver', '--help']);
  t.equal(tok.code, 0, 'token --help without --sub');
});

t.test('serve --help lists every setting of the README with its variable and default', async (t) => {
  const { stdout } = await taxiway(['serve', '--help']);
  const settings = readmeSettings();
  t.ok(settings.length >= 20, `README table read (${settings.length} rows)`);
  for (const s of settings) {
    for (const env of s.envs) t.match(stdout, new RegExp(`\\b${env}\\b`), `${env} is listed`);
    if (!s.flag) continue;
    const at = stdout.indexOf(`  ${s.flag} `);
    t.ok(at >= 0, `${s.flag} is listed`);
    const block = stdout.slice(at, stdout.indexOf('\n', stdout.indexOf('\n', at) + 1));
    t.match(block, `env ${s.envs[0]}`, `${s.flag}: its variable`);
    t.match(block, `default ${s.def}`, `${s.flag}: its default (${s.def})`);
  }
});

t.test('the top-level usage lists the commands and every serve flag', async (t) => {
  const none = await taxiway([]);
  t.equal(none.code, 2, 'no command: usage, exit 2');
  const r = await taxiway(['--help']);
  t.equal(r.code, 0);
  for (const cmd of ['serve', 'demo', 'token', 'migrate', 'replay', 'bench', 'eta-eval']) t.match(r.stdout, new RegExp(`\\n  ${cmd} `), cmd);
  for (const s of readmeSettings()) if (s.flag) t.match(r.stdout, `  ${s.flag} `, s.flag);
});

t.test('demo and token --help list their options with defaults', async (t) => {
  const demo = (await taxiway(['demo', '--help'])).stdout;
  for (const f of ['--drivers N', '--riders-per-min M', '--speed X', '--trip-s S', '--duration S', '--seed N', '--port N', '--data-dir DIR']) t.match(demo, f);
  t.match(demo, /default \.\/data\/demo/, 'the demo data dir');
  t.match(demo, /--log-level L[^\n]*\n[^\n]*default warn/, 'the demo log level');
  const token = (await taxiway(['token', '--help'])).stdout;
  for (const f of ['--role ROLE', '--sub ID', '--ttl SECONDS', '--data-dir DIR', '--auth-secret S']) t.match(token, f);
  t.match(token, /--ttl SECONDS[^\n]*\n[^\n]*default 3600/);
});

t.test('replay --help names the drivers and offers --available', async (t) => {
  const r = await taxiway(['replay', '--help']);
  t.match(r.stdout, /porto-<TAXI_ID>/);
  t.match(r.stdout, /--available/);
  t.match(r.stdout, /--data-dir DIR/);
});
