// Counts tests in tap's TAP output: each file's top-level subtests (4-space indent), skips apart.
import fs from 'node:fs';

const [file, statusArg] = process.argv.slice(2);
const lines = fs.readFileSync(file, 'utf8').split('\n');
let passed = 0;
let failed = 0;
let skipped = 0;
let fileFailures = 0;
for (const line of lines) {
  let m = /^    (not ok|ok) \d+ - .*?(# SKIP.*)?$/.exec(line);
  if (m) {
    if (m[2]) skipped++;
    else if (m[1] === 'ok') passed++;
    else failed++;
    continue;
  }
  // A file that failed without any failing subtest (crash, timeout) still counts as one failure.
  m = /^not ok \d+ - (.*)$/.exec(line);
  if (m) fileFailures++;
}
const status = Number(statusArg);
if (failed === 0 && (fileFailures > 0 || status !== 0)) failed = Math.max(1, fileFailures);
process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(status !== 0 || failed > 0 ? 1 : 0);
