// `taxiway eta-eval`: train an ETA model on one trip CSV, predict another, print count, MAE, MedAE, MAPE and RMSLE.
import { parseArgs, take } from '../cli-args.js';
import { etaMetrics } from './eta-metrics.js';
import { trainPredictor } from './eta-train.js';
import type { ModelKind } from './eta-train.js';
import { readTraceCsv } from './trace-csv.js';
import type { Trace } from './trace-csv.js';
import { TripCsvError, filterTrips, readTripCsv } from './trip-csv.js';
import type { FilterResult, TripRow } from './trip-csv.js';
import { LocalClock } from './local-clock.js';

const USAGE = `usage: taxiway eta-eval --train TRAIN.csv --test TEST.csv [--model baseline|learned] [--json]
                        [--telemetry TRACES.csv] [--timezone IANA-zone]

Trains on TRAIN, predicts TEST (format: id,pickup_lng,pickup_lat,dropoff_lng,dropoff_lat,weekday,hour,duration_s),
after dropping rows with duration < 60 s or > 4 h or distance < 50 m. --telemetry feeds GPS traces (Porto
challenge format) to the learned model first; traces whose TRIP_ID is a test row's id are left out. The zone
(for the traces' timestamps) is guessed for New York and Porto, UTC elsewhere.`;

/** Known cities' zones by bounding box (degrees), so the shipped data needs no --timezone. */
const ZONES: Array<[number, number, number, number, string]> = [
  [40.4, 41.0, -74.4, -73.6, 'America/New_York'],
  [40.9, 41.4, -8.9, -8.3, 'Europe/Lisbon'],
];

function guessZone(rows: readonly TripRow[]): string {
  const r = rows[0];
  if (!r) return 'UTC';
  const z = ZONES.find(([la0, la1, lo0, lo1]) => r.fromLat >= la0 && r.fromLat <= la1 && r.fromLng >= lo0 && r.fromLng <= lo1);
  return z ? z[4] : 'UTC';
}

function droppedLine(name: string, all: number, f: FilterResult): string {
  const d = all - f.kept.length;
  return `${name}: ${all} rows, ${f.kept.length} used, ${d} dropped (${f.tooShort} under 60 s, ${f.tooLong} over 4 h, ${f.tooNear} under 50 m)`;
}

const fmt = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

export async function runEtaEval(argv: string[]): Promise<number> {
  let opts: Record<string, string>;
  try {
    ({ options: opts } = parseArgs(argv, new Set(['json', 'help'])));
  } catch (e) {
    process.stderr.write(`taxiway eta-eval: ${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (take(opts, 'help')) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const trainFile = take(opts, 'train');
  const testFile = take(opts, 'test');
  const model = (take(opts, 'model') ?? 'learned') as ModelKind;
  const telemetry = take(opts, 'telemetry');
  const zoneOpt = take(opts, 'timezone');
  const json = take(opts, 'json') === 'true';
  const unknown = Object.keys(opts);
  const problem = !trainFile || !testFile ? '--train and --test are required'
    : model !== 'baseline' && model !== 'learned' ? `--model must be baseline or learned, not ${model}`
    : unknown.length ? `unknown option --${unknown[0]}` : null;
  if (problem) {
    process.stderr.write(`taxiway eta-eval: ${problem}\n\n${USAGE}\n`);
    return 2;
  }
  let trainAll: TripRow[], testAll: TripRow[], traces: Trace[] | undefined;
  try {
    trainAll = readTripCsv(trainFile!);
    testAll = readTripCsv(testFile!);
    traces = telemetry ? readTraceCsv(telemetry) : undefined;
  } catch (e) {
    const msg = e instanceof TripCsvError || (e as NodeJS.ErrnoException).code ? (e as Error).message : String(e);
    process.stderr.write(`taxiway eta-eval: ${msg}\n`);
    return 2;
  }
  const timeZone = zoneOpt ?? guessZone(trainAll);
  try {
    new LocalClock(timeZone);
  } catch {
    process.stderr.write(`taxiway eta-eval: --timezone ${timeZone} is not a known IANA zone\n`);
    return 2;
  }
  const train = filterTrips(trainAll);
  const test = filterTrips(testAll);
  if (train.kept.length === 0 || test.kept.length === 0) {
    process.stderr.write(`taxiway eta-eval: no usable rows left in ${train.kept.length === 0 ? trainFile : testFile} after filtering\n`);
    return 1;
  }
  const testIds = new Set(testAll.map((r) => r.id));
  const excluded = traces ? traces.filter((t) => testIds.has(t.id)).length : 0;
  const p = trainPredictor(model, train.kept, { timeZone, traces, excludeTraceIds: testIds });
  const pred = test.kept.map((r) => p.predict(r));
  const m = etaMetrics(pred, test.kept.map((r) => r.durationS));
  if (json) {
    const dropped = (all: number, f: FilterResult) => ({ rows: all, used: f.kept.length, under_60s: f.tooShort, over_4h: f.tooLong, under_50m: f.tooNear });
    const out = {
      ...m, model, timezone: timeZone, train: dropped(trainAll.length, train), test: dropped(testAll.length, test), learned: p.info,
      telemetry: traces ? { traces: traces.length, excluded_test_traces: excluded } : undefined,
    };
    process.stdout.write(JSON.stringify(out) + '\n');
    return 0;
  }
  const lines = [
    `model: ${model} (${Object.entries(p.info).map(([k, v]) => `${k} ${v}`).join(', ')})`,
    droppedLine(`train ${trainFile}`, trainAll.length, train),
    droppedLine(`test  ${testFile}`, testAll.length, test),
  ];
  if (traces) lines.push(`telemetry ${telemetry}: ${traces.length} traces, ${excluded} left out (trips of the test file), zone ${timeZone}`);
  lines.push(`n ${m.n}  MAE ${fmt(m.mae_s, 1)} s  MedAE ${fmt(m.medae_s, 1)} s  MAPE ${fmt(m.mape * 100, 1)} %  RMSLE ${fmt(m.rmsle, 4)}`);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
