// ETA speed benchmark: median time of one estimate (seconds()) and of a 16-candidate batch, baseline vs learned, seeded; prints JSON.
import { fileURLToPath } from 'node:url';
import { BaselineEta } from '../src/eta/baseline.js';
import type { EtaModel } from '../src/eta/eta-model.js';
import { mulberry32 } from '../src/eta/eta-cv.js';
import { LearnedEta } from '../src/eta/learned-eta.js';
import { readTraceCsv } from '../src/eta/trace-csv.js';
import { filterTrips, readTripCsv } from '../src/eta/trip-csv.js';

const asset = (p: string): string => fileURLToPath(new URL(`../../assets/${p}`, import.meta.url));
const N = 4096; // distinct O/D pairs, cycled
const BATCH = 1024; // calls per timed batch
const ROUNDS = 300;

function pairs(seed: number, lat: number, lng: number, spanDeg: number): Float64Array {
  const rnd = mulberry32(seed);
  const p = new Float64Array(4 * N);
  for (let i = 0; i < 4 * N; i += 2) {
    p[i] = lat + (rnd() - 0.5) * spanDeg;
    p[i + 1] = lng + (rnd() - 0.5) * spanDeg;
  }
  return p;
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[s.length >> 1]!;
}

/** Median ns per seconds() call over ROUNDS batches; `sink` keeps the calls from being optimised away. */
function timeOne(m: EtaModel, p: Float64Array, atMs: number): { ns: number; sink: number } {
  let sink = 0;
  const per: number[] = [];
  for (let r = 0; r < ROUNDS + 20; r++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < BATCH; k++) {
      const i = ((r * BATCH + k) % N) * 4;
      sink += m.seconds(p[i]!, p[i + 1]!, p[i + 2]!, p[i + 3]!, atMs + k * 1000);
    }
    const dt = Number(process.hrtime.bigint() - t0) / BATCH;
    if (r >= 20) per.push(dt); // the first rounds warm the JIT up
  }
  return { ns: median(per), sink };
}

/** Median ns to rank 16 candidates towards one pickup with secondsMany(). */
function timeBatch(m: EtaModel, p: Float64Array, atMs: number): number {
  const lat = new Float64Array(16), lng = new Float64Array(16), out = new Float64Array(16);
  const per: number[] = [];
  for (let r = 0; r < ROUNDS + 20; r++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < 64; k++) {
      const i = ((r * 64 + k) % (N - 16)) * 4;
      for (let c = 0; c < 16; c++) {
        lat[c] = p[i + 4 * c]!;
        lng[c] = p[i + 4 * c + 1]!;
      }
      m.secondsMany(lat, lng, null, 16, p[i + 2]!, p[i + 3]!, atMs, out);
    }
    if (r >= 20) per.push(Number(process.hrtime.bigint() - t0) / 64);
  }
  return median(per);
}

const nyc = new LearnedEta({ city: 'nyc', timeZone: 'America/New_York' });
nyc.addHistory(filterTrips(readTripCsv(asset('nyc/trips_train.csv'))).kept);
const nycFit = nyc.fit();
const porto = new LearnedEta({ city: 'porto', timeZone: 'Europe/Lisbon' });
for (const t of readTraceCsv(asset('porto/trips_replay.csv'))) porto.observeTrace(t);
porto.addHistory(filterTrips(readTripCsv(asset('porto/trips_train.csv'))).kept);
porto.fit();

const at = Date.UTC(2016, 2, 14, 13, 0, 0); // a Monday afternoon
const pNyc = pairs(42, 40.76, -73.98, 0.08);
const pPorto = pairs(43, 41.16, -8.61, 0.08);
const baseline = new BaselineEta(8.3);
const res = {
  node: process.version,
  seed: 42,
  baseline: { one_ns: timeOne(baseline, pNyc, at).ns, batch16_ns: timeBatch(baseline, pNyc, at) },
  learned_nyc: { one_ns: timeOne(nyc, pNyc, at).ns, batch16_ns: timeBatch(nyc, pNyc, at), trees: nycFit.trees },
  learned_porto_telemetry: { one_ns: timeOne(porto, pPorto, at).ns, batch16_ns: timeBatch(porto, pPorto, at) },
  target_one_ns: 5000,
};
process.stdout.write(JSON.stringify(res) + '\n');
