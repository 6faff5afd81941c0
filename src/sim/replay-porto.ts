// Loads the Porto taxi trips CSV (ECML/PKDD 2015) into one time-ordered GPS trace per taxi.
import fs from 'node:fs';
import { splitCsvLine } from '../util/csv.js';

/** One taxi's fixes, oldest first, unique times. Times in ms since the epoch (as recorded in 2013). */
export interface TaxiTrace {
  taxi: string;
  ts: number[];
  lat: number[];
  lng: number[];
}

export interface PortoFleet {
  taxis: TaxiTrace[];
  trips: number;
  fixes: number;
  /** Earliest and latest fix time, ms. */
  firstTs: number;
  lastTs: number;
}

/** Seconds between two POLYLINE points (the dataset's sampling period). */
const FIX_PERIOD_S = 15;


/**
 * Reads `TRIP_ID,CALL_TYPE,ORIGIN_CALL,ORIGIN_STAND,TAXI_ID,TIMESTAMP,DAY_TYPE,MISSING_DATA,POLYLINE`
 * rows. Point i of a trip was taken at TIMESTAMP + 15*i seconds. A taxi's trips are merged; where
 * two trips of one taxi overlap in time, the first point of a repeated second wins.
 * `maxTaxis` keeps the taxis with the most fixes first (a smaller but still busy fleet).
 */
export function loadPortoFleet(file: string, opts: { maxTaxis?: number } = {}): PortoFleet {
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
  const head = splitCsvLine(lines[0] ?? '');
  const col = (name: string): number => {
    const i = head.indexOf(name);
    if (i < 0) throw new Error(`${file}: no ${name} column (is this the Porto trips CSV?)`);
    return i;
  };
  const [cTaxi, cTime, cPoly] = [col('TAXI_ID'), col('TIMESTAMP'), col('POLYLINE')];
  const byTaxi = new Map<string, Map<number, [number, number]>>();
  let trips = 0;
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n]!;
    if (!line) continue;
    let f: string[];
    let poly: unknown;
    try {
      f = splitCsvLine(line);
      poly = JSON.parse(f[cPoly] ?? '');
    } catch (e) {
      throw new Error(`${file}:${n + 1}: ${(e as Error).message}`);
    }
    const taxi = f[cTaxi]!;
    const start = Number(f[cTime]);
    if (!taxi || !Number.isFinite(start) || !Array.isArray(poly)) throw new Error(`${file}:${n + 1}: bad TAXI_ID, TIMESTAMP or POLYLINE`);
    trips++;
    let pts = byTaxi.get(taxi);
    if (!pts) byTaxi.set(taxi, (pts = new Map()));
    poly.forEach((p: unknown, i: number) => {
      const [lng, lat] = p as [number, number];
      const ts = (start + FIX_PERIOD_S * i) * 1000;
      if (Number.isFinite(lat) && Number.isFinite(lng) && !pts!.has(ts)) pts!.set(ts, [lat, lng]);
    });
  }
  let taxis: TaxiTrace[] = [...byTaxi].map(([taxi, pts]) => {
    const sorted = [...pts].sort((a, b) => a[0] - b[0]);
    return { taxi, ts: sorted.map((p) => p[0]), lat: sorted.map((p) => p[1][0]), lng: sorted.map((p) => p[1][1]) };
  }).filter((t) => t.ts.length > 0);
  if (opts.maxTaxis !== undefined) taxis = taxis.sort((a, b) => b.ts.length - a.ts.length || (a.taxi < b.taxi ? -1 : 1)).slice(0, opts.maxTaxis);
  let fixes = 0;
  let firstTs = Infinity;
  let lastTs = -Infinity;
  for (const t of taxis) {
    fixes += t.ts.length;
    firstTs = Math.min(firstTs, t.ts[0]!);
    lastTs = Math.max(lastTs, t.ts.at(-1)!);
  }
  return { taxis, trips, fixes, firstTs, lastTs };
}
