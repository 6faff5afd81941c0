// JSON Schemas from the protocol's TypeScript types (ts-json-schema-generator), shaped for each document.
import fs from 'node:fs';
import path from 'node:path';
import { createGenerator } from 'ts-json-schema-generator';

export type Schema = Record<string, unknown>;

/** The dialect a document's schemas are written in: AsyncAPI 3 uses draft-07, OpenAPI 3.1 JSON Schema 2020-12. */
export type Dialect = 'draft-07' | '2020-12';

/** Names of the types a module exports (`export interface X`, `export type X`), in source order. */
export function exportedTypeNames(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/^export (?:interface|type) (\w+)/gm)].map((m) => m[1]!);
}

/**
 * The schema of every type `file` exports (or of `roots`), and of every type they use, as one `components.schemas` map
 * (sorted by name, so a regeneration is byte-identical). Objects are closed (`additionalProperties:
 * false`): a field the server sends but the types do not declare fails the tests that hold it to them.
 */
export function schemasOf(root: string, file: string, dialect: Dialect, roots?: readonly string[]): Record<string, Schema> {
  const generator = generatorFor(root);
  const defs: Record<string, Schema> = {};
  for (const name of roots ?? exportedTypeNames(path.join(root, file))) {
    Object.assign(defs, generator.createSchema(name).definitions as Record<string, Schema>);
  }
  const out: Record<string, Schema> = {};
  for (const name of Object.keys(defs).sort()) out[name] = reshape(defs[name], dialect) as Schema;
  return out;
}

/**
 * The files types are read from: one TypeScript program for both documents (building it is most of the
 * cost). Reply types owned by a higher layer (src/protocol cannot import them) are listed here too.
 */
const SOURCES = '{src/protocol/messages,src/protocol/http-bodies,src/matching/experiment-report}.ts';

const generators = new Map<string, ReturnType<typeof createGenerator>>();

function generatorFor(root: string): ReturnType<typeof createGenerator> {
  let g = generators.get(root);
  if (!g) {
    g = createGenerator({
      path: path.join(root, SOURCES),
      tsconfig: path.join(root, 'tsconfig.json'),
      expose: 'export',
      topRef: true,
      jsDoc: 'extended',
      skipTypeCheck: true,
      additionalProperties: false,
      sortProps: false,
    });
    generators.set(root, g);
  }
  return g;
}

/**
 * Refs point into `components.schemas`; in 2020-12 a tuple's `items: [...]` becomes `prefixItems`
 * (extra elements are already ruled out by `maxItems`).
 */
function reshape(v: unknown, dialect: Dialect): unknown {
  if (Array.isArray(v)) return v.map((x) => reshape(x, dialect));
  if (v === null || typeof v !== 'object') return v;
  const out: Schema = {};
  for (const [k, x] of Object.entries(v as Schema)) {
    if (k === '$ref' && typeof x === 'string') out[k] = x.replace('#/definitions/', '#/components/schemas/');
    else if (k === 'items' && Array.isArray(x) && dialect === '2020-12') out.prefixItems = reshape(x, dialect);
    else out[k] = reshape(x, dialect);
  }
  return out;
}
