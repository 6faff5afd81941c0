// `npm run fuzz`: a longer seeded fuzz campaign; prints one JSON report per seed and exits 1 on any violation.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runFuzz } from './fuzz-run.js';

const { values } = parseArgs({ options: { seed: { type: 'string', default: '1' }, seeds: { type: 'string', default: '5' }, frames: { type: 'string', default: '20000' }, http: { type: 'string', default: '3000' }, raw: { type: 'string', default: '200' } } });
let bad = 0;
for (let i = 0; i < Number(values.seeds); i++) {
  const seed = Number(values.seed) + i;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-fuzz-'));
  const t0 = Date.now();
  const rep = await runFuzz({ seed, framesPerRole: Number(values.frames), httpRequests: Number(values.http), rawConnections: Number(values.raw), maxServiceMs: 2000, dataDir });
  fs.rmSync(dataDir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ ...rep, wall_s: (Date.now() - t0) / 1000 }) + '\n');
  if (rep.violations.length) bad++;
}
process.stdout.write(`${bad === 0 ? 'no violations' : `${bad} seed(s) with violations`}\n`);
process.exit(bad === 0 ? 0 : 1);
