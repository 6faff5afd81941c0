// Error codes and close codes: the table in src/protocol/errors.ts is pinned, and equals docs/protocol.md's tables.
import fs from 'node:fs';
import t from 'tap';
import { ClientCloseCodes, CloseCodes, ErrorCodes, HttpStatusText } from '../src/protocol/errors.js';

const DOC = fs.readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

/** The rows (cells, trimmed) of the first Markdown table under the `## heading` of the protocol doc. */
function docTable(heading: string): string[][] {
  const lines = DOC.split('\n');
  const at = lines.findIndex((l) => l.trim() === `## ${heading}`);
  if (at < 0) throw new Error(`docs/protocol.md has no "## ${heading}" section`);
  const rows: string[][] = [];
  let inTable = false;
  for (let i = at + 1; i < lines.length && !lines[i]!.startsWith('## '); i++) {
    const l = lines[i]!.trim();
    if (!l.startsWith('|')) {
      if (inTable) break;
      continue;
    }
    inTable = true;
    // Split on unescaped pipes (a cell may hold `\|`).
    const cells = l.slice(1, l.endsWith('|') ? -1 : undefined).split(/(?<!\\)\|/).map((c) => c.trim());
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue; // the separator row
    rows.push(cells);
  }
  if (rows.length < 2) throw new Error(`"## ${heading}" has no table`);
  return rows.slice(1); // without the header row
}

const extension = (text: string): boolean => /\*\*(taxiway )?extension\*\*/.test(text);

t.test('the error-code table is pinned: code ↔ HTTP status', async (t) => {
  t.same(ErrorCodes, {
    bad_frame: 400,
    bad_request: 400,
    bad_location: 400,
    pickup_not_allowed: 400,
    unauthorized: 401,
    forbidden: 403,
    not_found: 404,
    method_not_allowed: 405,
    conflict: 409,
    misdirected: 421,
    too_large: 413,
    rate_limited: 429,
    internal: 500,
    unavailable: 503,
  });
  for (const [code, status] of Object.entries(ErrorCodes)) {
    t.match(HttpStatusText[status], new RegExp(`^${status} \\S`), `${code}: status line for ${status}`);
  }
  for (const [status, line] of Object.entries(HttpStatusText)) t.ok(line.startsWith(`${status} `), `status line ${line}`);
});

t.test('the close-code table is pinned: name ↔ number', async (t) => {
  t.same(CloseCodes, { goingAway: 1001, policyViolation: 1008, tooBig: 1009, internalError: 1011, replaced: 4001, tooSlow: 4008, servedElsewhere: 4009 });
  t.same(ClientCloseCodes, { normal: 1000, noStatus: 1005 });
  const numbers = Object.values(CloseCodes) as number[];
  t.equal(new Set(numbers).size, numbers.length, 'no number twice');
  for (const n of Object.values(ClientCloseCodes)) t.notOk(numbers.includes(n), `${n} is never sent by the server`);
});

t.test('docs/protocol.md "Error codes" equals ErrorCodes, both ways', async (t) => {
  const rows = docTable('Error codes');
  const doc = new Map<string, number>();
  for (const [code, http] of rows) {
    const m = /^`([a-z_]+)`$/.exec(code ?? '');
    t.ok(m, `code cell ${code} is one backquoted code`);
    t.match(http, /^\d{3}$/, `HTTP cell of ${code}`);
    t.notOk(doc.has(m![1]!), `${code} documented once`);
    doc.set(m![1]!, Number(http));
  }
  t.same(Object.fromEntries(doc), { ...ErrorCodes }, 'same codes with the same HTTP statuses');
});

t.test('docs/protocol.md "WebSocket close codes" equals CloseCodes, both ways', async (t) => {
  const rows = docTable('WebSocket close codes');
  const doc = rows.map(([code]) => Number(code)).sort((a, b) => a - b);
  for (const [code] of rows) t.match(code, /^\d{4}$/, `close code cell ${code}`);
  t.same(doc, (Object.values(CloseCodes) as number[]).sort((a, b) => a - b));
});

t.test('every code marked as an extension in the tables is listed under "Taxiway extensions at a glance", and only those', async (t) => {
  const glance = DOC.split('## Taxiway extensions at a glance')[1]!.split('\n\n')[1]!.replace(/\s+/g, ' ');
  const errExt = docTable('Error codes').filter((r) => extension(r.join(' '))).map((r) => r[0]!.replace(/`/g, '')).sort();
  const closeExt = docTable('WebSocket close codes').filter((r) => extension(r.join(' '))).map((r) => r[0]!).sort();
  const codes = /; codes ([^;]+);/.exec(glance);
  const closes = /; close codes ([^;]+);/.exec(glance);
  t.ok(codes && closes, 'the paragraph names the extra codes and close codes');
  t.same([...codes![1]!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]).sort(), errExt);
  t.same([...closes![1]!.matchAll(/\b(\d{4})\b/g)].map((m) => m[1]).sort(), closeExt);
});

t.test('no socket in src/ is closed with a literal code: every close goes through the table', async (t) => {
  const root = new URL('../../src/', import.meta.url);
  const files = (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
  t.ok(files.length > 50, 'found the sources');
  const found: string[] = [];
  for (const f of files) {
    const text = fs.readFileSync(new URL(f, root), 'utf8');
    for (const m of text.matchAll(/\.(end|close)\(\s*\d+/g)) found.push(`${f}: ${m[0]}`);
  }
  t.same(found, []);
});
