// The house rules that a reader cannot check by eye: no import loops in src/, no upward imports, no file over 400 lines.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
/** Longest source file, lines (house rule: small files with one job). */
const MAX_LINES = 400;

/**
 * Layers, lowest first. A file may import its own layer and any lower one, never a higher one. The order
 * follows the data's path (docs/architecture.md): wire types and plain helpers at the bottom, then the
 * logger and metrics, configuration, the ports with their storage and bus adapters, the live catalog of
 * cities and zones (read by everything above it), the live fleet, what
 * reads the fleet (ETA, ingest), matching, the sockets, the composition root, the simulator (a client of
 * the whole app) and the CLI on top. Folders on one rank know nothing of each other today; they share a
 * rank because neither is "below" the other.
 */
const LAYERS: ReadonlyArray<readonly string[]> = [
  ['util'],
  ['protocol'],
  ['client'], // the SDK for apps (taxiway/client): wire types and codec only, never server code
  ['observability'],
  ['config'],
  ['auth', 'storage'],
  ['bus'],
  ['catalog'],
  ['fleet'],
  ['eta', 'ingest'],
  ['matching'],
  ['ws'],
  ['app'],
  ['sim'],
  ['cli'],
];

/** Files at the top of src/ and the layer they belong to. */
const TOP_FILES: Record<string, string> = {
  'cli-args.ts': 'config', // the flag parser: read by the configuration and by CLI commands in lower folders
  'adapters.ts': 'app',
  'app.ts': 'app',
  'cli.ts': 'cli',
  'cli-usage.ts': 'cli', // usage texts of the commands, built from the flag table
};

const rank = new Map<string, number>();
LAYERS.forEach((names, i) => names.forEach((n) => rank.set(n, i)));

/** The layer of a file (path relative to src/, with `/`), or undefined when it has none yet. */
function layerOf(rel: string): string | undefined {
  const slash = rel.indexOf('/');
  if (slash < 0) return TOP_FILES[rel];
  const folder = rel.slice(0, slash);
  return rank.has(folder) ? folder : undefined;
}

function listSources(): string[] {
  return (fs.readdirSync(SRC, { recursive: true }) as string[])
    .map((f) => f.split(path.sep).join('/'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort();
}

/**
 * Every module a file imports, resolved to src/-relative paths. Counts static imports and re-exports,
 * `import type` (a lower layer that knows a higher layer's types is coupled to it all the same, and a
 * type-only loop is still a loop to read through) and dynamic `import()` (lazy loading changes when a
 * module loads, not which layer depends on which). Imports leaving src/ (packages, benchmarks/) are not
 * edges of this graph.
 */
function importsOf(rel: string): string[] {
  const text = fs.readFileSync(path.join(SRC, rel), 'utf8');
  const info = ts.preProcessFile(text, true, true);
  const out = new Set<string>();
  for (const ref of info.importedFiles) {
    const spec = ref.fileName;
    if (!spec.startsWith('.')) continue;
    const abs = path.resolve(path.dirname(path.join(SRC, rel)), spec.replace(/\.js$/, '.ts'));
    const target = path.relative(SRC, abs).split(path.sep).join('/');
    if (target.startsWith('..')) continue;
    out.add(target);
  }
  return [...out];
}

const files = listSources();
const graph = new Map(files.map((f) => [f, importsOf(f)]));

t.test('the graph is read from the sources', async (t) => {
  t.ok(files.length > 100, `${files.length} files`);
  t.ok(graph.get('app.ts')!.includes('ws/hub.ts'), 'app.ts imports ws/hub.ts');
  t.ok(graph.get('cli.ts')!.includes('sim/demo.ts'), 'dynamic imports count');
  const dangling = [...graph].flatMap(([f, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${f} imports ${d}`));
  t.same(dangling, [], 'every import resolves to a file in src/');
});

t.test('every file in src/ belongs to a layer', async (t) => {
  t.same(files.filter((f) => layerOf(f) === undefined), [], 'give new folders and top-level files a layer in this test');
});

t.test('no import from a lower layer to a higher one', async (t) => {
  const upward: string[] = [];
  for (const [f, deps] of graph) {
    const from = layerOf(f);
    if (from === undefined) continue;
    for (const d of deps) {
      const to = layerOf(d);
      if (to !== undefined && rank.get(to)! > rank.get(from)!) upward.push(`${f} (${from}) imports ${d} (${to})`);
    }
  }
  t.same(upward, []);
});

/** Strongly connected components with more than one file (or a file importing itself): the import loops. */
function loops(): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1 || graph.get(v)!.includes(v)) found.push(scc.sort());
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return found.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

t.test('no import loops', async (t) => {
  t.same(loops().map((scc) => scc.join(' ↔ ')), []);
});

t.test(`no file in src/ over ${MAX_LINES} lines`, async (t) => {
  const big: string[] = [];
  for (const f of files) {
    const text = fs.readFileSync(path.join(SRC, f), 'utf8');
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    if (lines > MAX_LINES) big.push(`${f}: ${lines} lines`);
  }
  t.same(big, []);
});
