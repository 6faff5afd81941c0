// In-process cost of the ingest pipeline per fix, without sockets: decode → judge → fleet → history (LMDB),
// against a floor measured in the same run (decode + latest position in typed arrays, nothing else).
// node dist/benchmarks/ingest-core.js [--drivers N] [--fixes N] [--memory|--null] [--no-budget]   (JSON on stdout)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FleetRegistry } from '../src/fleet/fleet-registry.js';
import { Ingest } from '../src/ingest/ingest.js';
import { Metrics } from '../src/observability/metrics.js';
import { LOC_OK, LocScratch, decodeLoc } from '../src/protocol/fast-loc.js';
import { fixNumbersValid } from '../src/protocol/validate.js';
import { LmdbStorage } from '../src/storage/lmdb/lmdb-storage.js';
import { MemoryStorage } from '../src/storage/memory-storage.js';
import type { Fix } from '../src/protocol/messages.js';
import type { HistoryStore } from '../src/storage/ports.js';
import { locTemplate, putLoc } from './lib/fix-frames.js';
import { mulberry32 } from '../src/util/random.js';

const arg = (k: string, d: number): number => {
  const i = process.argv.indexOf(k);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const drivers = arg('--drivers', 10_000);
const total = arg('--fixes', 2_000_000);
/** --memory: the in-memory adapter; --null: a store that drops everything (the pipeline without storage). */
const storeKind = process.argv.includes('--null') ? 'null' : process.argv.includes('--memory') ? 'memory' : 'lmdb';

/** Frames in driver round-robin order, as the load generator's sockets would deliver them. */
function frames(n: number, t0: number): Uint8Array[] {
  const tpl = locTemplate(false);
  const rnd = mulberry32(1);
  const lat = new Float64Array(drivers).map(() => 41.1 + rnd() * 0.1);
  const lng = new Float64Array(drivers).map(() => -8.65 + rnd() * 0.1);
  const hdr = tpl.frame[1]! & 0x7f;
  const out: Uint8Array[] = [];
  const fl = tpl.frame.length;
  const big = Buffer.alloc(n * fl);
  for (let i = 0; i < n; i++) {
    const d = i % drivers;
    const round = Math.floor(i / drivers);
    putLoc(big, i * fl, tpl, lat[d]! + round * 2e-5, lng[d]!, t0 + round * 1000 + d % 997, 0);
    // The server sees the unmasked payload: strip the 2-byte client header (no mask in the template).
    out.push(new Uint8Array(big.buffer, big.byteOffset + (i + 1) * fl - hdr, hdr));
  }
  return out;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function main(): Promise<void> {
  const per = Math.min(total, 400_000);
  const t0 = Date.now() - 3_600_000;
  const ids = Array.from({ length: drivers }, (_, i) => 'd' + i);
  const s = new LocScratch();

  // Floor: decode + typed-array latest position (what the 1.3M fixes/s "ceiling" server does).
  const flLat = new Float64Array(drivers), flLng = new Float64Array(drivers), flTs = new Float64Array(drivers);
  const floorFrames = frames(per, t0);
  let w0 = performance.now();
  for (let rep = 0; rep < Math.ceil(total / per); rep++) {
    for (let i = 0; i < per; i++) {
      if (decodeLoc(floorFrames[i]!, s) !== LOC_OK) throw new Error('bad frame');
      const d = i % drivers;
      flLat[d] = s.lat; flLng[d] = s.lng; flTs[d] = s.ts;
    }
  }
  const floorNs = ((performance.now() - w0) * 1e6) / (Math.ceil(total / per) * per);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-ingest-core-'));
  const storage: HistoryStore & { flush(): Promise<void>; close(): Promise<void> } =
    storeKind === 'null'
      ? { appendFixes() {}, backlog: () => 0, track: async () => ({ points: [] }), flush: async () => {}, close: async () => {} }
      : storeKind === 'memory' ? new MemoryStorage() : await LmdbStorage.open(dir);
  // Main-thread time inside appendFixes (chunk encoding and queueing puts), apart from the rest of the pipeline.
  let appendMs = 0;
  const append = storage.appendFixes.bind(storage);
  storage.appendFixes = (b) => {
    const t = performance.now();
    append(b);
    appendMs += performance.now() - t;
  };
  const fleet = new FleetRegistry({ cities: [{ name: 'world', timezone: 'UTC', boundary: null }], rebuildMs: 200, expireMs: 3_600_000 });
  fleet.start();
  // The per-driver fix budget's code runs on every fix (as on a server), with a budget that never refuses:
  // the benchmark sends each driver's fixes flat out. --no-budget: without it, to see what it costs.
  const budget = process.argv.includes('--no-budget') ? undefined : { ratePerS: 1_000_000, burst: 1_000_000 };
  const ingest = new Ingest(fleet, storage, new Metrics(), { budget });
  const fix: Fix = { ts: 0, lat: 0, lng: 0, hdg: NaN, spd: NaN, acc: NaN };
  let fed = 0, accepted = 0, refused = 0;
  const slices: Uint8Array[][] = [];
  for (let ts0 = t0, left = total; left > 0; left -= per) {
    const fr = frames(Math.min(per, left), ts0);
    ts0 += Math.ceil(fr.length / drivers) * 1000;
    slices.push(fr);
  }
  const c0 = cpuMs();
  w0 = performance.now();
  // Feed in slices, yielding to the loop between them (timers: flush, index rebuilds; LMDB commits).
  for (const fr of slices) {
    const cs = performance.now();
    for (let i = 0; i < fr.length; i++) {
      const b = fr[i]!;
      if (decodeLoc(b, s) !== LOC_OK || !fixNumbersValid(s.ts, s.lat, s.lng, s.hdg, s.spd, s.acc)) throw new Error('bad frame');
      fix.ts = s.ts; fix.lat = s.lat; fix.lng = s.lng;
      const v = ingest.accept(ids[i % drivers]!, fix, Date.now());
      if (v <= 1) accepted++;
      else refused++;
      if ((i & 4095) === 0 && performance.now() - cs > 50) await new Promise((r) => setImmediate(r));
    }
    fed += fr.length;
    await new Promise((r) => setImmediate(r));
  }
  ingest.flush();
  await storage.flush();
  const wallMs = performance.now() - w0;
  const cpu = cpuMs() - c0;
  fleet.stop();
  await storage.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const out = {
    storage: storeKind,
    budget: budget !== undefined,
    drivers, fixes: total, accepted, refused,
    floorNsPerFix: Math.round(floorNs),
    pipelineWallNsPerFix: Math.round((wallMs * 1e6) / total),
    pipelineCpuNsPerFix: Math.round((cpu * 1e6) / total),
    appendNsPerFix: Math.round((appendMs * 1e6) / total),
    fixesPerSWall: Math.round(total / (wallMs / 1000)),
    note: 'frame building is outside the timed loops; CPU includes LMDB write threads and GC',
  };
  console.log(JSON.stringify(out, null, 1));
}

await main();
