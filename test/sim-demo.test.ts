// The demo end to end: embedded server, simulated drivers and riders over real sockets, trips complete.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { runDemo } from '../src/sim/demo.js';
import type { DemoStatus } from '../src/sim/demo.js';
import { histogramQuantile, parseMetrics } from '../src/sim/sim-status.js';

const tmpDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-demo-'));

t.test('rejects unknown options and speeds the jump filter would reject', async (t) => {
  await t.rejects(runDemo(['--bogus', '1']), /unknown option --bogus/);
  await t.rejects(runDemo(['--speed', '5']), /--speed 5: .*use at most 3/);
  await t.rejects(runDemo(['--drivers', 'many']), /--drivers must be an integer/);
});

t.test('histogram quantiles interpolate inside buckets', async (t) => {
  const text = [
    '# HELP taxiway_dispatch_offer_latency_seconds x',
    'taxiway_dispatch_offer_latency_seconds_bucket{le="0.001"} 50',
    'taxiway_dispatch_offer_latency_seconds_bucket{le="0.01"} 100',
    'taxiway_dispatch_offer_latency_seconds_bucket{le="+Inf"} 100',
    'taxiway_fixes_accepted_total 1234',
  ].join('\n');
  const s = parseMetrics(text);
  t.equal(s.fixesAccepted, 1234);
  t.equal(histogramQuantile(0.5, s.offerBuckets), 0.001);
  t.ok(Math.abs(histogramQuantile(0.75, s.offerBuckets) - 0.0055) < 1e-9);
  t.ok(Number.isNaN(histogramQuantile(0.5, [])));
});

t.test('a 40 s demo at 3x speed completes trips and serves the dashboard', async (t) => {
  const dir = tmpDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  const statuses: DemoStatus[] = [];
  let served: Promise<number[]> | undefined;
  const code = await runDemo(
    ['--port', '0', '--drivers', '8', '--riders-per-min', '120', '--duration', '40', '--speed', '3', '--trip-s', '45', '--data-dir', dir, '--log-level', 'error'],
    {
      write: (l) => lines.push(l),
      onStatus: (s) => {
        statuses.push(s);
        // While the server runs: the dashboard files must be served next to the API.
        const base = /dashboard +(http:\/\/[^/]+)\/dashboard#token=/.exec(lines.join('\n'))?.[1];
        served ??= Promise.all(['/dashboard', '/dashboard.js'].map(async (p) => (await fetch(base + p)).status));
      },
    },
  );
  t.equal(code, 0, 'exit code 0');
  const out = lines.join('\n');
  t.match(out, /dashboard +http:\/\/127\.0\.0\.1:\d+\/dashboard#token=ey/, 'prints the dashboard URL with an ops token');
  t.match(out, /Ctrl-C to stop/);
  t.match(out, /stopping \(--duration 40\)/);
  t.match(out, /\[ +\d+s\] drivers 8 \| fixes\/s \d+/, 'prints status lines');
  t.same(await served, [200, 200], 'dashboard and its script are served');
  const last = statuses[statuses.length - 1]!;
  const diag = { status: lines.filter((l) => l.startsWith('[')).slice(-3) };
  t.ok(statuses.length >= 8, 'a status every 5 s plus the final one');
  t.equal(last.driversOnline, 8, 'every driver online', diag);
  t.ok(last.fixesPerS > 4, `server accepts fixes (${last.fixesPerS.toFixed(1)}/s)`);
  t.ok(last.ridersSpawned > 40, `riders arrive (${last.ridersSpawned})`);
  t.ok(last.tripsCompleted >= 1, `trips completed (${last.tripsCompleted})`, diag);
  t.ok(last.finals.completed >= 1, 'riders saw their trips complete');
  t.ok(last.offerP50Ms >= 0 && last.offerP99Ms >= last.offerP50Ms, 'offer latency quantiles');
  // Races (a rider cancelling just as a driver acts) can legitimately draw an err; more means a bug.
  t.ok(last.errors <= 2, `few errors (${last.errors})`, diag);
});

t.test('SIGINT stops the demo cleanly with exit code 0', async (t) => {
  const dir = tmpDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  const run = runDemo(['--port', '0', '--drivers', '2', '--riders-per-min', '0', '--data-dir', dir, '--log-level', 'error'], {
    write: (l) => {
      lines.push(l);
      // Once running, deliver a SIGINT to our own listeners only (not to the tap runner).
      if (l.includes('Ctrl-C to stop')) setTimeout(() => process.emit('SIGINT'), 1500);
    },
  });
  t.equal(await run, 0);
  t.match(lines.join('\n'), /stopping \(SIGINT\)[\s\S]*stopped/);
});
