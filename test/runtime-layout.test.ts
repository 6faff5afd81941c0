// The runtime does not depend on the source layout or on dev dependencies: `serve` never reaches the benchmarks,
// the environment is read in one module, and a copy of dist/ without src/ or dev dependencies still runs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
const DEV = new Set(Object.keys(pkg.devDependencies));

/** Static imports (`import ... from`, `export ... from`, `import '...'`) of a compiled module; dynamic `import()` is lazy and not followed. */
function staticImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s(?:[^'"();]*?\sfrom\s)?\s*['"]([^'"]+)['"]/gm)) out.push(m[1]!);
  return out;
}

/** Every compiled file and every bare package reached from `entry` through static imports. */
function staticGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const f = todo.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    for (const spec of staticImports(f)) {
      if (spec.startsWith('.')) todo.push(path.resolve(path.dirname(f), spec));
      else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return { files, packages };
}

t.test('serve never loads the benchmarks or a dev dependency', async (t) => {
  // `serve` runs cli.js, then imports app.js once the configuration is valid.
  for (const [entry, least] of [['dist/src/cli.js', 5], ['dist/src/app.js', 40]] as const) {
    const g = staticGraph(path.join(ROOT, entry));
    t.ok(g.files.size >= least, `${entry} reaches ${g.files.size} files`);
    const bench = [...g.files].filter((f) => f.includes(`${path.sep}benchmarks${path.sep}`));
    t.same(bench, [], `${entry} does not statically import benchmarks/`);
    t.same([...g.packages].filter((p) => DEV.has(p)), [], `${entry} imports no dev dependency`);
  }
});

t.test('the environment is read in src/config/environment.ts only', async (t) => {
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith(path.join('config', 'environment.ts')) && /process\.env\b/.test(fs.readFileSync(p, 'utf8'))) offenders.push(path.relative(ROOT, p));
    }
  };
  walk(path.join(ROOT, 'src'));
  t.same(offenders, []);
});

t.test('a copy of dist/ without src/ or dev dependencies runs: Lua scripts, dashboard, assets, serve; bench says what to install', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-install-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const p of ['package.json', 'bin', 'dist/src', 'dist/benchmarks', 'web', 'assets/monaco']) {
    fs.cpSync(path.join(ROOT, p), path.join(dir, p), { recursive: true });
  }
  // A production install: every package but the dev dependencies (linked from the shared install).
  const modules = fs.realpathSync(path.join(ROOT, 'node_modules'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  for (const name of fs.readdirSync(modules)) {
    if (DEV.has(name) || name === '.bin' || name === '@types') continue; // @types/* are all dev dependencies
    fs.symlinkSync(path.join(modules, name), path.join(dir, 'node_modules', name));
  }

  const probe = `
    const { JOB_COMMIT_LUA } = await import('./dist/src/matching/lua/job-commit.lua.js');
    await import('./dist/src/matching/redis-job-repo.js');
    await import('./dist/src/fleet/redis-fleet-mirror.js');
    await import('./dist/src/app.js');
    const { packagePath } = await import('./dist/src/util/package-root.js');
    const { defaultMonacoRoadsPath } = await import('./dist/src/sim/road-graph.js');
    const fs = await import('node:fs');
    process.stdout.write(JSON.stringify({ lua: JOB_COMMIT_LUA.includes("redis.call('EXISTS', offerKey)"), web: packagePath('web', 'dashboard.html'),
      webThere: fs.existsSync(packagePath('web', 'dashboard.html')), roads: defaultMonacoRoadsPath(), roadsThere: fs.existsSync(defaultMonacoRoadsPath()) }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: dir, encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout || '{}') as Record<string, unknown>;
  t.equal(got.lua, true, 'Lua scripts load without src/');
  t.equal(got.web, path.join(fs.realpathSync(dir), 'web', 'dashboard.html'), 'dashboard found in the installed package');
  t.equal(got.webThere, true);
  t.equal(got.roadsThere, true, 'demo roads found in the installed package');

  const help = spawnSync(process.execPath, ['bin/taxiway.js', 'serve', '--help'], { cwd: dir, encoding: 'utf8' });
  t.equal(help.status, 0, help.stderr);
  t.match(help.stdout, /--port N[^\n]*\n[^\n]*env PORT/);

  const bench = spawnSync(process.execPath, ['bin/taxiway.js', 'bench', 'help'], { cwd: dir, encoding: 'utf8' });
  t.equal(bench.status, 1);
  t.match(bench.stderr, /^taxiway bench needs the dev dependencies \(.*\): run npm install \(without --omit=dev\)/);
  t.notMatch(bench.stderr, /\n\s+at /, 'no stack trace');
});
