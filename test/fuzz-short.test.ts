// Short seeded fuzz run in CI: hostile frames on the three sockets, odd HTTP and raw TCP never hurt the node.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { runFuzz } from './fuzz/fuzz-run.js';

t.test('seeded fuzz: no crash, no unhandled rejection, documented codes only, a good client keeps working', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-fuzz-'));
  t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const seed = Number(process.env.TAXIWAY_FUZZ_SEED ?? 20261204);
  const rep = await runFuzz({ seed, framesPerRole: 3000, httpRequests: 600, rawConnections: 40, maxServiceMs: 2000, dataDir });
  t.comment(JSON.stringify({ ...rep, violations: rep.violations.length }));
  t.same(rep.violations, [], `seed ${seed}: no violations`);
  t.ok(rep.goodAcks > 10, 'the well-behaved driver was served throughout');
  t.equal(rep.framesSent.driver + rep.framesSent.rider + rep.framesSent.ops, 9000);
});
