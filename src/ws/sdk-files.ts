// Serves the client SDK as browser ES modules (/sdk/...) and the browser rider example, read once at startup.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TemplatedApp } from 'uWebSockets.js';
import { packagePath } from '../util/package-root.js';

const JS = 'text/javascript; charset=utf-8';
/** msgpackr's browser ES modules (the package's `browser` build: no Node built-ins). */
const MSGPACKR_FILES = ['index.js', 'pack.js', 'unpack.js', 'iterators.js', 'scan.js'];

/** The .js files of a folder of the compiled SDK (none when the package was not built). */
function jsFiles(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith('.js'));
  } catch {
    return [];
  }
}

/** msgpackr's package folder, wherever npm installed it. */
function msgpackrDir(): string | undefined {
  try {
    return path.dirname(fileURLToPath(import.meta.resolve('msgpackr')));
  } catch {
    return undefined;
  }
}

/**
 * Register `/sdk/client/*.js` and `/sdk/protocol/*.js` (the compiled SDK and the wire modules it imports),
 * `/sdk/msgpackr/*.js` (for the page's import map: `"msgpackr": "/sdk/msgpackr/index.js"`) and
 * `/examples/browser-rider.html`. Public code only: no server module is served.
 */
export function registerSdkFiles(app: TemplatedApp): void {
  const files: Array<[urlPath: string, file: string, type: string]> = [];
  for (const sub of ['client', 'protocol']) {
    const dir = packagePath('dist', 'src', sub);
    for (const f of jsFiles(dir)) files.push([`/sdk/${sub}/${f}`, path.join(dir, f), JS]);
  }
  const mp = msgpackrDir();
  if (mp) for (const f of MSGPACKR_FILES) files.push([`/sdk/msgpackr/${f}`, path.join(mp, f), JS]);
  files.push(['/examples/browser-rider.html', packagePath('examples', 'browser-rider.html'), 'text/html; charset=utf-8']);
  for (const [urlPath, file, type] of files) {
    let body: Buffer;
    try {
      body = fs.readFileSync(file);
    } catch {
      continue; // not shipped: the API still works
    }
    app.get(urlPath, (res) => {
      res.cork(() => res.writeStatus('200 OK').writeHeader('content-type', type).writeHeader('cache-control', 'no-cache').end(body));
    });
  }
}
