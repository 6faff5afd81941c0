// Reads the ETA trip format (id,pickup_lng,pickup_lat,dropoff_lng,dropoff_lat,weekday,hour,duration_s) and applies the eval's row filter.
import { readFileSync } from 'node:fs';
import { haversineMetres } from '../fleet/geo.js';

/** One historical trip: positions in degrees, weekday ISO 1-7 and hour 0-23 local time, duration in seconds. */
export interface TripRow {
  id: string;
  fromLat: number;
  fromLng: number;
  toLat: number;
  toLng: number;
  weekday: number;
  hour: number;
  durationS: number;
}

export class TripCsvError extends Error {
  constructor(readonly file: string, readonly line: number, detail: string) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'TripCsvError';
  }
}

const COLUMNS = ['id', 'pickup_lng', 'pickup_lat', 'dropoff_lng', 'dropoff_lat', 'weekday', 'hour', 'duration_s'] as const;

/** Parse CSV text in the trip format; `file` names the source in errors. Throws TripCsvError with the 1-based line number. */
export function parseTripCsv(text: string, file = 'trips.csv'): TripRow[] {
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.trim().split(',').map((h) => h.trim().replace(/^"|"$/g, ''));
  if (!header || header.length < 2) throw new TripCsvError(file, 1, `expected a header with the columns ${COLUMNS.join(',')}`);
  const col = new Map<string, number>();
  header.forEach((h, i) => col.set(h, i));
  for (const c of COLUMNS) if (!col.has(c)) throw new TripCsvError(file, 1, `header has no column "${c}" (expected ${COLUMNS.join(',')})`);
  const idx = COLUMNS.map((c) => col.get(c)!);
  const rows: TripRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue; // trailing newline, blank lines
    const f = raw.split(',');
    if (f.length !== header.length) throw new TripCsvError(file, i + 1, `expected ${header.length} fields, found ${f.length}`);
    const num = (k: number, name: string): number => {
      const s = f[idx[k]!]!.trim();
      // Number() accepts exponent form ("1e3" appears in the NYC file) but also "", which is not a number here.
      const v = s === '' ? NaN : Number(s);
      if (!Number.isFinite(v)) throw new TripCsvError(file, i + 1, `${name} "${s}" is not a number`);
      return v;
    };
    const fromLng = num(1, 'pickup_lng');
    const fromLat = num(2, 'pickup_lat');
    const toLng = num(3, 'dropoff_lng');
    const toLat = num(4, 'dropoff_lat');
    const weekday = num(5, 'weekday');
    const hour = num(6, 'hour');
    const durationS = num(7, 'duration_s');
    if (Math.abs(fromLat) > 90 || Math.abs(toLat) > 90) throw new TripCsvError(file, i + 1, 'latitude outside -90..90 degrees');
    if (Math.abs(fromLng) > 180 || Math.abs(toLng) > 180) throw new TripCsvError(file, i + 1, 'longitude outside -180..180 degrees');
    if (!Number.isInteger(weekday) || weekday < 1 || weekday > 7) throw new TripCsvError(file, i + 1, `weekday "${weekday}" must be an integer 1-7 (ISO, 1 = Monday)`);
    if (!Number.isInteger(hour) || hour < 0 || hour > 23) throw new TripCsvError(file, i + 1, `hour "${hour}" must be an integer 0-23`);
    if (durationS < 0) throw new TripCsvError(file, i + 1, `duration_s "${durationS}" must be >= 0`);
    rows.push({ id: f[idx[0]!]!.trim(), fromLat, fromLng, toLat, toLng, weekday, hour, durationS });
  }
  return rows;
}

export function readTripCsv(path: string): TripRow[] {
  return parseTripCsv(readFileSync(path, 'utf8'), path);
}

/** The eval's filter: rows that are not trips an ETA should answer (seconds, metres). */
export const MIN_DURATION_S = 60;
export const MAX_DURATION_S = 4 * 3600;
export const MIN_DISTANCE_M = 50;

export interface FilterResult {
  kept: TripRow[];
  tooShort: number;
  tooLong: number;
  tooNear: number;
}

/** Drop rows with duration < 60 s or > 4 h, or great-circle distance < 50 m (each row counted once, in that order). */
export function filterTrips(rows: readonly TripRow[]): FilterResult {
  const r: FilterResult = { kept: [], tooShort: 0, tooLong: 0, tooNear: 0 };
  for (const t of rows) {
    if (t.durationS < MIN_DURATION_S) r.tooShort++;
    else if (t.durationS > MAX_DURATION_S) r.tooLong++;
    else if (haversineMetres(t.fromLat, t.fromLng, t.toLat, t.toLng) < MIN_DISTANCE_M) r.tooNear++;
    else r.kept.push(t);
  }
  return r;
}
