// Recorded listeners: the info line per job change, and a failing listener that neither undoes a commit nor silences the others.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { MemoryBus } from '../src/bus/bus.js';
import { BusNotifier } from '../src/bus/deliveries.js';
import { MemoryTimers } from '../src/bus/timers.js';
import { BaselineEta } from '../src/eta/baseline.js';
import { FleetRegistry } from '../src/fleet/fleet-registry.js';
import { jobLogListener } from '../src/matching/job-log.js';
import { JobService } from '../src/matching/job-service.js';
import { MemoryJobRepo } from '../src/matching/memory-job-repo.js';
import { Metrics } from '../src/observability/metrics.js';
import type { JobRecord } from '../src/protocol/job-record.js';
import { MemoryStorage } from '../src/storage/memory-storage.js';

function capture(level: string): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level }, sink), lines };
}

const PICKUP = { lat: 43.7384, lng: 7.4246 };

t.test('one info line per committed change, with job, state, city, driver and who caused it', async (t) => {
  const { logger, lines } = capture('info');
  const seen: string[] = [];
  const repo = new MemoryJobRepo();
  const timers = new MemoryTimers();
  const jobs = new JobService({
    fleet: new FleetRegistry({ cities: [{ name: 'world', timezone: 'UTC', boundary: null }], rebuildMs: 3_600_000, expireMs: 3_600_000 }),
    repo, timers, store: new MemoryStorage(), eta: new BaselineEta(10), notifier: new BusNotifier(new MemoryBus(), 'deliver'),
    metrics: new Metrics(), logger: capture('silent').logger,
    dispatch: { radiusM: 5000, offerTimeoutMs: 10_000, maxAttempts: 3, staleMs: 30_000, speedMps: 10, searchWindowMs: 0, maxRadiusM: 5000, batchWindowMs: 2000 }, cityDispatch: new Map(),
    recordedListeners: [() => {
      throw new Error('a broken listener');
    }, jobLogListener(logger)],
  });
  jobs.addRecordedListener((rec: JobRecord, by: string) => seen.push(`${rec.state} by ${by}`));
  t.teardown(async () => {
    await timers.close();
    await repo.close();
  });
  const rec = await jobs.create('r1', PICKUP, null, 'taxi'); // no driver: dispatching, then unfulfilled
  t.equal(rec.state, 'unfulfilled', 'the commit stands although a listener threw');
  t.same(seen, ['dispatching by rider', 'unfulfilled by dispatch'], 'later listeners still run, in order');
  const jobLines = lines.filter((l) => l.msg === 'job changed');
  t.same(jobLines.map((l) => [l.level, l.job, l.state, l.city, l.driver, l.by]), [
    [30, rec.id, 'dispatching', 'world', null, 'rider'],
    [30, rec.id, 'unfulfilled', 'world', null, 'dispatch'],
  ]);
});

t.test('nothing is logged above info', async (t) => {
  const { logger, lines } = capture('warn');
  const log = jobLogListener(logger);
  log({ id: 'j1', state: 'accepted', rider: 'r', driver: 'd', pickup: PICKUP, dropoff: null, product: 'taxi', city: 'world', created_ts: 1, updated_ts: 2, times: {} }, 'driver:d');
  t.same(lines, []);
});
