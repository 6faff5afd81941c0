// Serves the ops dashboard (web/) from memory: a fixed list of files read once at startup, plus its roads and cities.
import fs from 'node:fs';
import type { TemplatedApp } from 'uWebSockets.js';
import type { CityDef } from '../config/cities.js';
import { packagePath } from '../util/package-root.js';

const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** The dashboard's files: plain scripts and a stylesheet, no build step (web/README.md says which does what). */
const FILES: Array<[urlPath: string, file: string, type: string]> = [
  ['/', 'web/dashboard.html', HTML],
  ['/dashboard', 'web/dashboard.html', HTML],
  ['/dashboard.css', 'web/dashboard.css', CSS],
  ['/dashboard.js', 'web/dashboard.js', JS],
  ['/dashboard/msgpack.js', 'web/msgpack.js', JS],
  ['/dashboard/map.js', 'web/map.js', JS],
  ['/dashboard/jobs.js', 'web/jobs.js', JS],
  ['/dashboard/kpis.js', 'web/kpis.js', JS],
  ['/dashboard/driver-detail.js', 'web/driver-detail.js', JS],
];

export interface StaticOptions {
  /** A GeoJSON file of LineStrings: the road backdrop at /dashboard/roads.json, flattened to [lng, lat, ...] arrays once. */
  roadsGeojson?: string;
  /** The served cities now (the live catalog): names and boundaries at /dashboard/cities.json, for the city selector. */
  cities?: () => readonly CityDef[];
}

function json(app: TemplatedApp, path: string, body: string): void {
  app.get(path, (res) => {
    res.cork(() => res.writeStatus('200 OK').writeHeader('content-type', 'application/json').writeHeader('cache-control', 'max-age=3600').end(body));
  });
}

/** Register the dashboard files, and its roads and cities when given. */
export function registerStatic(app: TemplatedApp, opts: StaticOptions = {}): void {
  if (opts.roadsGeojson) {
    const fc = JSON.parse(fs.readFileSync(opts.roadsGeojson, 'utf8')) as { features?: Array<{ geometry?: { type?: string; coordinates?: number[][] } }> };
    const lines: number[][] = [];
    for (const f of fc.features ?? []) {
      if (f.geometry?.type === 'LineString' && Array.isArray(f.geometry.coordinates)) lines.push(f.geometry.coordinates.flat().map((v) => Math.round(v * 1e5) / 1e5));
    }
    json(app, '/dashboard/roads.json', JSON.stringify(lines));
  }
  if (opts.cities) {
    const live = opts.cities;
    // Encoded again only when the city list changed (the catalog hands out the same array until then).
    let seen: readonly CityDef[] | null = null;
    let body = '';
    app.get('/dashboard/cities.json', (res) => {
      const cities = live();
      if (cities !== seen) {
        seen = cities;
        body = JSON.stringify({ cities: cities.map((c) => ({ name: c.name, boundary: c.boundary })) });
      }
      res.cork(() => res.writeStatus('200 OK').writeHeader('content-type', 'application/json').writeHeader('cache-control', 'no-cache').end(body));
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
