// The demo end to end: embedded server, simulated drivers and riders over real sockets, trips complete.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { runDemo } from '../src/sim/demo.js';
import type { DemoStatus } from '../src/sim/demo.js';
import { histogramQuantile, parseMetrics } from '../src/sim/sim-status.js';
import { REPO } from './helpers/cassandra.js';

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
  t.match(out, /\[ +\d+s\] drivers 8 \| fixes\/s \d+ \| jobs: \d+ dispatching, \d+ to pickup, \d+ at pickup, \d+ riding \| ended: \d+ completed, \d+ cancelled, \d+ unfulfilled \| offer latency p50 [\d.-]+ ms, p99 [\d.-]+ ms \| riders \d+ \| errors \d+$/m, 'prints status lines, words spelled out');
  t.match(out, /status line: seconds since start \| drivers online/, 'explains the status line');
  t.notMatch(out, /\| trips \d+/, 'completed trips are counted once (ended: N completed)');
  const stamps = lines.filter((l) => l.startsWith('[')).map((l) => Number(/\[ *(\d+)s\]/.exec(l)![1]));
  t.ok(stamps.every((s, i) => i === 0 || s > stamps[i - 1]!), `no status line printed twice (${stamps.join(' ')})`);
  t.equal(lines.filter((l) => l.startsWith('first trip completed')).length, 1, 'the first trip is announced once');
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

t.test('with default settings the first trip completes within 45 s', async (t) => {
  const dir = tmpDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  let first: number | undefined;
  const stop = new AbortController();
  // Defaults (40 drivers, 12 riders/min, speed 1); stops as soon as a status shows the first trip.
  const code = await runDemo(['--port', '0', '--duration', '50', '--data-dir', dir], {
    write: (l) => lines.push(l),
    signal: stop.signal,
    onStatus: (s) => {
      if (s.firstTripS === undefined) return;
      first = s.firstTripS;
      stop.abort();
    },
  });
  t.equal(code, 0);
  const diag = { banner: lines[0], status: lines.filter((l) => l.startsWith('[')).slice(-2) };
  t.ok(first !== undefined && first <= 45, `first trip completed after ${first?.toFixed(1)} s`, diag);
  t.match(lines.join('\n'), /first trip completed \d+ s after start/);
  t.notOk(lines.some((l) => l.startsWith('{')), 'no log line among the banner and status lines');
  t.match(fs.readFileSync(path.join(dir, 'demo.log'), 'utf8'), /generated a secret/, "the node's log went to demo.log");
});

t.test('taxiway demo prints no JSON log line on stdout', async (t) => {
  const dir = tmpDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const p = spawn(process.execPath, [path.join(REPO, 'bin/taxiway.js'), 'demo', '--port', '0', '--drivers', '2', '--duration', '2', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d));
  p.stderr.on('data', (d: Buffer) => (out += d));
  const code = await new Promise<number | null>((r) => p.on('close', r));
  t.equal(code, 0, 'exit code 0', { out });
  t.match(out, /taxiway demo: 2 drivers/);
  t.match(out, /node log demo\.log, level warn/, 'the banner says where the log goes');
  t.notMatch(out, /"level"|^\{/m, 'no JSON log line');
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
