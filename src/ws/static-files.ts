// Serves the ops dashboard (web/) from memory: a fixed list of files read once at startup.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TemplatedApp } from 'uWebSockets.js';

/** Package root: this file is at dist/src/ws/static-files.js. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const FILES: Array<[urlPath: string, file: string, type: string]> = [
  ['/', 'web/dashboard.html', 'text/html; charset=utf-8'],
  ['/dashboard', 'web/dashboard.html', 'text/html; charset=utf-8'],
  ['/dashboard.js', 'web/dashboard.js', 'text/javascript; charset=utf-8'],
];

export function registerStatic(app: TemplatedApp): void {
  for (const [urlPath, file, type] of FILES) {
    let body: Buffer;
    try {
      body = fs.readFileSync(ROOT + file);
    } catch {
      continue; // dashboard not shipped: the API still works
    }
    app.get(urlPath, (res) => {
      res.cork(() => {
        res.writeStatus('200 OK').writeHeader('content-type', type).writeHeader('cache-control', 'no-cache').end(body);
      });
    });
  }
}
