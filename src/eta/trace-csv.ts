// Reads GPS traces in the Porto challenge format (TRIP_ID,...,TIMESTAMP,...,POLYLINE) as telemetry: one fix every 15 s.
import { readFileSync } from 'node:fs';
import { TripCsvError } from './trip-csv.js';
import { splitCsvLine } from '../util/csv.js';

/** Seconds between consecutive fixes of a POLYLINE (the dataset's sampling period). */
export const TRACE_PERIOD_S = 15;

/** One trace: fix i was taken at `startS + 15 * i` (UTC epoch seconds); `lat`/`lng` in degrees. */
export interface Trace {
  id: string;
  startS: number;
  lat: Float64Array;
  lng: Float64Array;
}


export function parseTraceCsv(text: string, file = 'traces.csv'): Trace[] {
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '');
  const iId = header.indexOf('TRIP_ID');
  const iTs = header.indexOf('TIMESTAMP');
  const iPl = header.indexOf('POLYLINE');
  if (iId < 0 || iTs < 0 || iPl < 0) throw new TripCsvError(file, 1, 'header needs the columns TRIP_ID, TIMESTAMP and POLYLINE');
  const out: Trace[] = [];
  for (let n = 1; n < lines.length; n++) {
    const raw = lines[n]!;
    if (raw.trim() === '') continue;
    let f: string[];
    let pts: unknown;
    try {
      f = splitCsvLine(raw);
      pts = JSON.parse(f[iPl] ?? '');
    } catch (e) {
      throw new TripCsvError(file, n + 1, `unreadable row (${(e as Error).message})`);
    }
    if (f.length !== header.length) throw new TripCsvError(file, n + 1, `expected ${header.length} fields, found ${f.length}`);
    const startS = Number(f[iTs]);
    if (!Number.isFinite(startS) || f[iTs]!.trim() === '') throw new TripCsvError(file, n + 1, `TIMESTAMP "${f[iTs]}" is not a number`);
    if (!Array.isArray(pts)) throw new TripCsvError(file, n + 1, 'POLYLINE is not a JSON array');
    const lat = new Float64Array(pts.length);
    const lng = new Float64Array(pts.length);
    for (let i = 0; i < pts.length; i++) {
      const p = pts[i] as unknown;
      if (!Array.isArray(p) || typeof p[0] !== 'number' || typeof p[1] !== 'number' || Math.abs(p[1]) > 90 || Math.abs(p[0]) > 180) {
        throw new TripCsvError(file, n + 1, `POLYLINE point ${i} is not [lng, lat] in degrees`);
      }
      lng[i] = p[0];
      lat[i] = p[1];
    }
    out.push({ id: f[iId]!, startS, lat, lng });
  }
  return out;
}

export function readTraceCsv(path: string): Trace[] {
  return parseTraceCsv(readFileSync(path, 'utf8'), path);
}
