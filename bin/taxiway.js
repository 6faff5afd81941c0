#!/usr/bin/env node
// Entry point for `npx taxiway`: runs the compiled CLI (npm ci builds it via the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/src/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('taxiway is not built yet: run `npm run build` (npm ci does it for you).\n');
  process.exit(1);
}
const { main } = await import(cli.href);
const code = await main(process.argv.slice(2));
// Exit explicitly once stdout is drained: idle HTTP keep-alive sockets would otherwise hold the
// process open after a graceful stop (uWS 20.30 has no app.close()).
process.stdout.write('', () => process.exit(code));
