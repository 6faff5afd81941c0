// Test helper: holds HTTP replies and WebSocket frames to docs/openapi.json and docs/asyncapi.json (ajv).
//
// server.ts's `http`, `fetchChecked` and `Client` call it for every request and frame, so each suite using
// them checks the server against the documents without doing anything. A reply or frame the documents
// do not describe at all (a new route, a new `t`) is a violation too: a new feature must document itself.
import fs from 'node:fs';
import AjvModule from 'ajv';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { decodeFrame, encodeFrame } from '../../src/protocol/codec.js';
import { packagePath } from '../../src/util/package-root.js';

const Ajv = AjvModule.default;
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

type Json = Record<string, any>;

/** Every violation seen by this process; those never thrown at a test are reported when it exits. */
const unreported = new Set<string>();

process.on('exit', () => {
  if (unreported.size === 0) return;
  process.stderr.write(`\n${unreported.size} API document violation(s) not thrown at any test:\n${[...unreported].join('\n')}\n`);
  process.exitCode = 1;
});

/** Mark a violation as shown to a test (thrown or rejected), so the exit report does not repeat it. */
export function reported(violation: string): void {
  unreported.delete(violation);
}

function record(violation: string): string {
  unreported.add(violation);
  return violation;
}

function describeErrors(errors: ErrorObject[] | null | undefined, docSchema: string): string {
  return (errors ?? [])
    .slice(0, 4)
    .map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''} [schema ${schemaAt(docSchema, e.schemaPath)}]`)
    .join('; ');
}

/** Where in the document a failed keyword is: ajv gives refs' paths from the document root, others from the schema's. */
function schemaAt(docSchema: string, schemaPath: string): string {
  const file = docSchema.slice(0, docSchema.indexOf('#'));
  return /^#\/(components|paths)\//.test(schemaPath) ? file + schemaPath : docSchema + schemaPath.slice(1);
}

const short = (v: unknown): string => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 300 ? s.slice(0, 300) + '…' : s;
};

// ---------------------------------------------------------------------------------------------------
// HTTP

let openapi: { doc: Json; ajv: InstanceType<typeof Ajv2020>; routes: Array<{ template: string; re: RegExp }> } | undefined;

function loadOpenApi(): NonNullable<typeof openapi> {
  if (openapi) return openapi;
  const doc = JSON.parse(fs.readFileSync(packagePath('docs', 'openapi.json'), 'utf8')) as Json;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, 'openapi.json');
  // Literal paths before templated ones, so `/v1/drivers/nearby` never reads as a driver id.
  const routes = Object.keys(doc.paths as Json)
    .sort((a, b) => Number(a.includes('{')) - Number(b.includes('{')))
    .map((template) => ({ template, re: new RegExp('^' + template.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+') + '$') }));
  return (openapi = { doc, ajv, routes });
}

const pointer = (...parts: string[]): string => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

const httpValidators = new Map<string, ValidateFunction>();

function httpValidator(ref: string): ValidateFunction {
  let v = httpValidators.get(ref);
  if (!v) {
    const { ajv } = loadOpenApi();
    v = ajv.getSchema(`openapi.json${ref}`);
    if (!v) throw new Error(`no schema at docs/openapi.json${ref}`);
    httpValidators.set(ref, v);
  }
  return v;
}

/**
 * Check one HTTP reply against docs/openapi.json; returns the violation (also kept for the exit report)
 * or null. `body` is the reply's text ('' for none).
 */
export function checkHttpReply(method: string, url: string, status: number, contentType: string, body: string): string | null {
  const { doc, routes } = loadOpenApi();
  const m = method.toLowerCase();
  const u = new URL(url);
  const route = routes.find((r) => r.re.test(u.pathname));
  const op = route ? (doc.paths[route.template][m] as Json | undefined) : undefined;
  const where = `${method.toUpperCase()} ${u.pathname} → ${status}`;
  if (!op) {
    // Undocumented route: fine only when the server itself says it has none (the JSON 404), or a preflight.
    if (m === 'options' && status === 204) return null;
    if (status === 404) return checkContent(where, m, '#/components/responses/Error404', doc.components.responses.Error404, contentType, body);
    return record(`${where}: no operation ${method.toUpperCase()} ${route?.template ?? u.pathname} in docs/openapi.json (document the route in scripts/specs/openapi-paths.ts, then npm run specs)`);
  }
  let at = `#/${pointer('paths', route!.template, m, 'responses', String(status))}`;
  let resp = op.responses?.[String(status)] as Json | undefined;
  if (!resp) return record(`${where}: status ${status} is not documented for ${method.toUpperCase()} ${route!.template} in docs/openapi.json (documented: ${Object.keys(op.responses ?? {}).join(', ')})`);
  if (typeof resp.$ref === 'string') {
    at = resp.$ref;
    resp = doc.components.responses[resp.$ref.slice(resp.$ref.lastIndexOf('/') + 1)] as Json;
  }
  return checkContent(where, m, at, resp, contentType, body);
}

function checkContent(where: string, method: string, at: string, resp: Json, contentType: string, body: string): string | null {
  if (method === 'head' || body === '') return null; // no body to check (a HEAD reply's headers are the GET's)
  const content = resp.content as Json | undefined;
  if (!content) return record(`${where}: a body was sent but docs/openapi.json${at} documents none`);
  const base = contentType.split(';')[0]!.trim().toLowerCase();
  const media = Object.keys(content).find((k) => k === base);
  if (!media) return record(`${where}: content type ${contentType} is not documented at docs/openapi.json${at} (${Object.keys(content).join(', ')})`);
  if (media !== 'application/json') return null;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return record(`${where}: body is not JSON: ${short(body)}`);
  }
  const ref = `${at}/${pointer('content', media, 'schema')}`;
  const validate = httpValidator(ref);
  if (validate(value)) return null;
  return record(`${where}: body ${short(value)} violates docs/openapi.json${ref}: ${describeErrors(validate.errors, `docs/openapi.json${ref}`)}`);
}

// ---------------------------------------------------------------------------------------------------
// WebSocket frames

/** Which way a frame went, seen from the test's client. */
export type FrameDirection = 'sent' | 'received';

interface FrameSchema { name: string; types: string[]; validate: ValidateFunction }

let asyncapi: Map<string, FrameSchema[]> | undefined;

function loadAsyncApi(): Map<string, FrameSchema[]> {
  if (asyncapi) return asyncapi;
  const doc = JSON.parse(fs.readFileSync(packagePath('docs', 'asyncapi.json'), 'utf8')) as Json;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, 'asyncapi.json');
  const out = new Map<string, FrameSchema[]>();
  for (const [opId, op] of Object.entries(doc.operations as Record<string, Json>)) {
    const list: FrameSchema[] = [];
    for (const mref of op.messages as Array<{ $ref: string }>) {
      const name = mref.$ref.slice(mref.$ref.lastIndexOf('/') + 1);
      const payloadRef = (doc.components.messages[name] as Json).payload.$ref as string;
      const schema = doc.components.schemas[payloadRef.slice(payloadRef.lastIndexOf('/') + 1)] as Json;
      const t = schema.properties.t as Json;
      list.push({ name: payloadRef, types: t.const !== undefined ? [t.const] : t.enum, validate: ajv.getSchema(`asyncapi.json${payloadRef}`)! });
    }
    out.set(opId, list);
  }
  return (asyncapi = out);
}

/** The socket a WebSocket URL opens (`driver`, `rider`, `ops`), or null for any other path (not checked). */
export function socketOf(url: string): string | null {
  const m = /\/v1\/(driver|rider|ops)\/ws$/.exec(new URL(url).pathname);
  return m ? m[1]! : null;
}

/**
 * Check one frame against docs/asyncapi.json; returns the violation (also kept for the exit report) or
 * null. A sent frame is checked as it goes on the wire (encoded and decoded: undefined fields dropped).
 */
export function checkFrame(socket: string, direction: FrameDirection, frame: object): string | null {
  const opId = `${socket}${direction === 'sent' ? 'Client' : 'Server'}Frames`;
  const list = loadAsyncApi().get(opId);
  if (!list) return record(`no operation ${opId} in docs/asyncapi.json`);
  const wire = direction === 'sent' ? decodeFrame(encodeFrame(frame)) : (frame as Record<string, unknown>);
  const where = `${direction} on /v1/${socket}/ws`;
  const candidates = list.filter((s) => s.types.includes(wire.t as string));
  if (candidates.length === 0) {
    return record(`${where}: frame ${short(wire)} has no message with t=${JSON.stringify(wire.t)} in docs/asyncapi.json operation ${opId} (declare it in src/protocol/messages.ts, then npm run specs)`);
  }
  if (candidates.some((c) => c.validate(wire))) return null;
  const why = candidates.map((c) => {
    c.validate(wire);
    return `docs/asyncapi.json${c.name}: ${describeErrors(c.validate.errors, `docs/asyncapi.json${c.name}`)}`;
  });
  return record(`${where}: frame ${short(wire)} violates ${why.join(' | ')}`);
}

/**
 * Compile every validator when the helper loads, before any server starts: compiling on first use
 * took long enough on a busy machine to let a test's short timers (a 600 ms offer timeout, a rate
 * limit's refill) run out between two requests.
 */
function precompile(): void {
  const { doc } = loadOpenApi();
  for (const [template, item] of Object.entries(doc.paths as Record<string, Json>)) {
    for (const [method, op] of Object.entries(item)) {
      for (const [status, resp] of Object.entries((op as Json).responses ?? {})) {
        if ((resp as Json).content?.['application/json']) httpValidator(`#/${pointer('paths', template, method, 'responses', status, 'content', 'application/json', 'schema')}`);
      }
    }
  }
  for (const name of Object.keys(doc.components.responses as Json)) httpValidator(`#/${pointer('components', 'responses', name, 'content', 'application/json', 'schema')}`);
  loadAsyncApi();
}

precompile();
