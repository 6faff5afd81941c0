// Serves the ops dashboard (web/) from memory: a fixed list of files read once at startup.
import fs from 'node:fs';
import type { TemplatedApp } from 'uWebSockets.js';
import { packagePath } from '../util/package-root.js';

const FILES: Array<[urlPath: string, file: string, type: string]> = [
  ['/', 'web/dashboard.html', 'text/html; charset=utf-8'],
  ['/dashboard', 'web/dashboard.html', 'text/html; charset=utf-8'],
  ['/dashboard.js', 'web/dashboard.js', 'text/javascript; charset=utf-8'],
];

/**
 * Register the dashboard files; `roadsGeojson` (a GeoJSON file of LineStrings) becomes the dashboard's
 * road backdrop at /dashboard/roads.json, flattened to [lng, lat, ...] arrays once at startup.
 */
export function registerStatic(app: TemplatedApp, roadsGeojson?: string): void {
  if (roadsGeojson) {
    const fc = JSON.parse(fs.readFileSync(roadsGeojson, 'utf8')) as { features?: Array<{ geometry?: { type?: string; coordinates?: number[][] } }> };
    const lines: number[][] = [];
    for (const f of fc.features ?? []) {
      if (f.geometry?.type === 'LineString' && Array.isArray(f.geometry.coordinates)) lines.push(f.geometry.coordinates.flat().map((v) => Math.round(v * 1e5) / 1e5));
    }
    const body = JSON.stringify(lines);
    app.get('/dashboard/roads.json', (res) => {
      res.cork(() => res.writeStatus('200 OK').writeHeader('content-type', 'application/json').writeHeader('cache-control', 'max-age=3600').end(body));
    });
  }
  for (const [urlPath, file, type] of FILES) {
    let body: Buffer;
    try {
      body = fs.readFileSync(packagePath(file));
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
