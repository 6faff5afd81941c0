// Cross-validation report of the ETA models on the shipped NYC and Porto trips: prints JSON (numbers quoted in docs/eta.md).
import { fileURLToPath } from 'node:url';
import { crossValidate } from '../src/eta/eta-cv.js';
import type { CvScheme } from '../src/eta/eta-cv.js';
import type { ModelKind } from '../src/eta/eta-train.js';
import { filterTrips, readTripCsv } from '../src/eta/trip-csv.js';
import { readTraceCsv } from '../src/eta/trace-csv.js';

const asset = (p: string): string => fileURLToPath(new URL(`../../assets/${p}`, import.meta.url));
const round = (v: number): number => Math.round(v * 1000) / 1000;

const only = process.argv[2]; // optional: nyc | porto
const out: Record<string, unknown> = {};
const cities: Array<[string, string, string, boolean]> = [
  ['nyc', 'nyc/trips_train.csv', 'America/New_York', false],
  ['porto', 'porto/trips_train.csv', 'Europe/Lisbon', true],
];
for (const [city, file, timeZone, telemetry] of cities) {
  if (only && only !== city) continue;
  const rows = filterTrips(readTripCsv(asset(file))).kept;
  const traces = telemetry ? readTraceCsv(asset('porto/trips_replay.csv')) : undefined;
  const schemes: CvScheme[] = city === 'nyc' ? ['kfold', 'hour', 'weekday', 'area'] : ['kfold', 'hour', 'area'];
  const res: Record<string, unknown> = {};
  for (const scheme of schemes) {
    const variants: Array<[string, ModelKind, boolean]> = [['baseline', 'baseline', false], ['learned', 'learned', false]];
    if (telemetry) variants.push(['learned+telemetry', 'learned', true]);
    for (const [name, kind, tel] of variants) {
      const t0 = Date.now();
      const r = crossValidate(rows, kind, { scheme, k: 5, timeZone, traces: tel ? traces : undefined });
      res[`${scheme}/${name}`] = {
        folds: r.folds, ...Object.fromEntries(Object.entries(r.overall).map(([k, v]) => [k, round(v)])),
        by_hour: Object.fromEntries(r.byHour.map((h) => [h.band, { n: h.n, rmsle: round(h.rmsle), mae_s: Math.round(h.mae_s) }])),
        ms: Date.now() - t0,
      };
    }
  }
  out[city] = { trips: rows.length, ...res };
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
