// Finds the installed package's root folder (where web/ and assets/ ship), from compiled or source code alike.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The nearest folder above this module whose package.json names taxiway. Works wherever the code runs
 * from (dist/src/util/ once compiled, src/util/ under a TypeScript loader) instead of counting `../`.
 */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'taxiway') return (cached = dir);
      } catch {
        // not ours (or unreadable): keep climbing
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`taxiway's package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** A path inside the package, e.g. `packagePath('web', 'dashboard.html')`. */
export function packagePath(...parts: string[]): string {
  return path.join(packageRoot(), ...parts);
}
