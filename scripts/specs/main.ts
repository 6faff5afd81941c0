// `npm run specs`: writes docs/openapi.json and docs/asyncapi.json; `--check` only says whether they are current.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAsyncApi } from './asyncapi.js';
import { buildOpenApi } from './openapi.js';

/** The repository root (this file runs from dist/scripts/specs/). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The two documents, as the repository keeps them (path relative to the root -> text). */
export function renderSpecs(root = ROOT): Record<string, string> {
  const version = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const text = (doc: unknown): string => JSON.stringify(doc, null, 2) + '\n';
  return {
    'docs/openapi.json': text(buildOpenApi(root, version)),
    'docs/asyncapi.json': text(buildAsyncApi(root, version)),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, text] of Object.entries(renderSpecs())) {
    const full = path.join(ROOT, file);
    const current = fs.existsSync(full) ? fs.readFileSync(full, 'utf8') : '';
    if (current === text) continue;
    stale++;
    if (check) console.error(`${file} is stale: run npm run specs`);
    else {
      fs.writeFileSync(full, text);
      console.log(`wrote ${file}`);
    }
  }
  if (check && stale) process.exitCode = 1;
}
