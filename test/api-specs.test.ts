// docs/openapi.json and docs/asyncapi.json: current with the types, covering every route and frame the source registers, served, and checked.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { renderSpecs } from '../scripts/specs/main.js';
import { ROLES } from '../src/protocol/messages.js';
import { packageRoot } from '../src/util/package-root.js';
import { checkFrame, checkHttpReply, reported } from './helpers/spec-check.js';
import { http, removeDir, startServer } from './helpers/server.js';

const ROOT = packageRoot();
const read = (file: string): any => JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'));

/** Every .ts file under src/, with its text. */
function sources(): Array<[string, string]> {
  const dir = path.join(ROOT, 'src');
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => [path.join('src', f), fs.readFileSync(path.join(dir, f), 'utf8')]);
}

t.test('the committed documents equal a fresh generation from the TypeScript types (npm run specs)', async (t) => {
  for (const [file, text] of Object.entries(renderSpecs(ROOT))) {
    const committed = fs.readFileSync(path.join(ROOT, file), 'utf8');
    t.ok(committed === text, `${file} is current (else run npm run specs and commit it)`);
  }
});

t.test('every HTTP route the source registers is in docs/openapi.json', async (t) => {
  const doc = read('docs/openapi.json');
  const found = new Map<string, string>(); // "get /v1/jobs/{id}" -> file
  const add = (method: string, p: string, file: string): void => {
    const paths = p.includes('${role}') ? ROLES.map((r) => p.replace('${role}', r)) : [p];
    for (const one of paths) found.set(`${method.toLowerCase()} ${one.replace(/:(\w+)/g, '{$1}')}`, file);
  };
  for (const [file, text] of sources()) {
    // route(d, { name: 'POST /v1/jobs', ... }): the metric name every JSON route carries.
    for (const m of text.matchAll(/name: '(GET|HEAD|POST|PUT|DELETE|PATCH) (\/[^' ]*)'/g)) add(m[1]!, m[2]!, file);
    for (const m of text.matchAll(/\bapp\.(get|post|head|put|del|patch|ws)\(\s*['`](\/[^'`]*)['`]/g)) add(m[1] === 'ws' ? 'get' : m[1] === 'del' ? 'delete' : m[1]!, m[2]!, file); // uWS names DELETE `del`
    for (const m of text.matchAll(/\bgetAndHead\(\s*'(\/[^']*)'/g)) {
      add('get', m[1]!, file);
      add('head', m[1]!, file);
    }
    // Static files: a table of [urlPath, file, type].
    for (const m of text.matchAll(/^\s*\['(\/[^']*)', '[^']+', [^\]]+\],?$/gm)) add('get', m[1]!, file);
    // Helpers that register a GET, such as static-files.ts's json(app, '/dashboard/roads.json', ...).
    for (const m of text.matchAll(/\b(?!app\.)\w+\(app, '(\/[^']*)'/g)) add('get', m[1]!, file);
  }
  t.ok(found.size >= 15, `found ${found.size} routes in src/`);
  for (const [route, file] of found) {
    const [method, p] = route.split(' ') as [string, string];
    t.ok(doc.paths[p]?.[method], `${method.toUpperCase()} ${p} (registered in ${file}) is documented in docs/openapi.json (scripts/specs/openapi-paths.ts)`);
  }
});

t.test('every frame type the server encodes is a message of docs/asyncapi.json', async (t) => {
  const doc = read('docs/asyncapi.json');
  const documented = new Set<string>();
  for (const [id, op] of Object.entries<any>(doc.operations)) {
    if (!id.endsWith('ServerFrames')) continue;
    for (const m of op.messages) {
      const schema = doc.components.schemas[m.$ref.slice(m.$ref.lastIndexOf('/') + 1)];
      const tt = schema.properties.t;
      for (const v of tt.const !== undefined ? [tt.const] : tt.enum) documented.add(v);
    }
  }
  let seen = 0;
  for (const [file, text] of sources()) {
    if (file.includes(`${path.sep}sim${path.sep}`)) continue; // the simulator is a client: it sends client frames
    for (const m of text.matchAll(/(?:encodeFrame|new IdFrame)\(\{ t: '([a-z_]+)'/g)) {
      seen++;
      t.ok(documented.has(m[1]!), `frame t=${m[1]} (encoded in ${file}) is a server message of docs/asyncapi.json (src/protocol/messages.ts)`);
    }
  }
  t.ok(seen >= 8, `found ${seen} frame encodings in src/`);
});

t.test('the error replies of docs/openapi.json carry every code of src/protocol/errors.ts', async (t) => {
  const doc = read('docs/openapi.json');
  const codes = doc.components.schemas.ErrorCode.enum as string[];
  const inResponses = new Set<string>();
  for (const r of Object.values<any>(doc.components.responses)) for (const c of r.content['application/json'].schema.properties.error.properties.code.enum) inResponses.add(c);
  t.same([...inResponses].sort(), [...codes].sort());
});

t.test('the checker names what is undocumented and where a reply or frame breaks its schema', async (t) => {
  const extra = checkFrame('driver', 'received', { t: 'hello', driver: 'd1', interval_ms: 1000, server_ts: 1, mood: 'sunny' });
  t.match(extra, /HelloFrame.*additional properties \(mood\)/);
  const unknown = checkFrame('ops', 'received', { t: 'snapshot', jobs: [] });
  t.match(unknown, /no message with t="snapshot" in docs\/asyncapi.json operation opsServerFrames/);
  const badSent = checkFrame('driver', 'sent', { t: 'loc', lat: 91, lng: 0, ts: 1 });
  t.match(badSent, /\/lat must be <= 90 \[schema docs\/asyncapi.json#\/components\/schemas\/Latitude\/maximum\]/);
  t.equal(checkFrame('driver', 'sent', { t: 'loc', lat: 43.7, lng: 7.4, ts: 1764300000000, hdg: null }), null);
  const route = checkHttpReply('POST', 'http://x/v1/admin/cities', 201, 'application/json', '{"name":"oslo"}');
  t.match(route, /POST \/v1\/admin\/cities → 201: no operation POST \/v1\/admin\/cities in docs\/openapi.json/);
  const status = checkHttpReply('GET', 'http://x/v1/eta?from=1,1&to=1,1', 418, 'application/json', '{}');
  t.match(status, /status 418 is not documented for GET \/v1\/eta/);
  const body = checkHttpReply('GET', 'http://x/v1/eta', 200, 'application/json', '{"eta_s":5}');
  t.match(body, /must have required property 'distance_m'/);
  const code = checkHttpReply('GET', 'http://x/v1/jobs/j1', 404, 'application/json', '{"error":{"code":"conflict","message":"x"}}');
  t.match(code, /\/error\/code must be equal to one of the allowed values/);
  t.equal(checkHttpReply('DELETE', 'http://x/v1/jobs', 404, 'application/json', '{"error":{"code":"not_found","message":"no route"}}'), null, 'the JSON 404 of an unknown route is documented');
  for (const v of [extra, unknown, badSent, route, status, body, code]) if (v) reported(v);
});

t.test('GET /openapi.json serves docs/openapi.json, without a token', async (t) => {
  const s = await startServer();
  t.teardown(async () => {
    await s.stop();
    removeDir(s.dataDir);
  });
  const r = await http('GET', `${s.url}/openapi.json`);
  t.equal(r.status, 200);
  t.same(r.body, read('docs/openapi.json'));
});
