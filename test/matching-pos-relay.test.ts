// PosRelay: at least 1 s of fix time between two pos of a job, never two within 500 ms of wall time, a late send does not make later ones late, and the ETA follows the job's state.
import t from 'tap';
import { PosRelay } from '../src/matching/pos-relay.js';
import type { JobNotifier } from '../src/bus/deliveries.js';
import type { JobRecord } from '../src/protocol/job-record.js';
import { BaselineEta } from '../src/eta/baseline.js';
import type { EtaModel } from '../src/eta/eta-model.js';
import { decodeFrame } from '../src/protocol/codec.js';
import { ManualClock } from './helpers/manual-clock.js';

interface Sent { at: number; ts: number; lat: number; eta_s?: number }

const PICKUP = { lat: 41.15, lng: -8.61 };
const DROPOFF = { lat: 41.17, lng: -8.59 };

function setup(start = 1_800_000_000_000): { clock: ManualClock; relay: PosRelay; sent: Sent[] } {
  const clock = new ManualClock(start);
  const sent: Sent[] = [];
  const notifier = {
    jobPos: (_job: string, f: Buffer) => {
      const m = decodeFrame(new Uint8Array(f));
      sent.push({ at: clock.now(), ts: m.ts as number, lat: m.lat as number, eta_s: m.eta_s as number | undefined });
    },
    toDriver() {}, jobChanged() {}, jobPosEnd() {}, driverOpened() {},
    toOps() {},
  } satisfies JobNotifier;
  return { clock, relay: new PosRelay(notifier, new BaselineEta(8.3), clock), sent };
}

function job(state: JobRecord['state'], dropoff: typeof DROPOFF | null = DROPOFF): JobRecord {
  return { id: 'j1', state, rider: 'r1', driver: 'd1', pickup: PICKUP, dropoff, product: 'taxi', city: 'porto', created_ts: 0, updated_ts: 0, times: {} };
}

t.test('a stall of 700 ms delays one frame, not every later one', async (t) => {
  const { clock, relay, sent } = setup();
  const rec = job('accepted');
  const t0 = clock.now();
  relay.moved(rec, 41.1, -8.6, NaN, t0);
  t.equal(sent.length, 1, 'first fix forwarded at once');
  // The next fix (1 s later by fix time) reaches the relay only 300 ms after the previous send: a burst after a stall.
  clock.advance(300);
  relay.moved(rec, 41.1001, -8.6, NaN, t0 + 1000);
  t.equal(sent.length, 1, 'held for the wall gap');
  clock.advance(400);
  t.equal(sent.length, 2);
  t.equal(sent[1]!.at - t0, 500, 'held only for the 500 ms wall gap');
  // On schedule again: the fix after it goes out at once.
  clock.advance(1300);
  relay.moved(rec, 41.1002, -8.6, NaN, t0 + 2000);
  t.equal(sent.length, 3, 'no lateness carried over');
  t.equal(sent[2]!.at, clock.now());
  relay.stop();
  t.equal(clock.pending, 0);
});

t.test('fixes faster than 1 Hz: every pair of pos is at least 1 s apart in fix time', async (t) => {
  // The reported defect: fixes every 600 ms came out 600-900 ms apart in fix time.
  for (const step of [100, 200, 300, 400, 600, 700, 900, 999, 1000, 1300]) {
    const { clock, relay, sent } = setup();
    const rec = job('accepted');
    const t0 = clock.now();
    for (let i = 0; i < 60; i++) {
      relay.moved(rec, 41.1 + i * 1e-5, -8.6, NaN, t0 + i * step);
      clock.advance(step); // arriving in real time
    }
    for (let i = 1; i < sent.length; i++) {
      t.ok(sent[i]!.ts - sent[i - 1]!.ts >= 1000, `step ${step}: fix-time gap ${sent[i]!.ts - sent[i - 1]!.ts} ms`);
      t.ok(sent[i]!.at - sent[i - 1]!.at >= 500, `step ${step}: wall gap`);
    }
    // Nothing delayed: a due fix arriving on time goes out the moment it arrives.
    const fixTs = new Set(Array.from({ length: 60 }, (_, i) => t0 + i * step));
    for (const s of sent) t.ok(fixTs.has(s.ts) && s.at === s.ts, `step ${step}: fix ${s.ts - t0} sent on arrival`);
    const span = 59 * step;
    t.ok(sent.length >= Math.floor(span / Math.max(1000, step)) / 2 + 1, `step ${step}: ${sent.length} frames over ${span} ms`);
    if (step >= 1000) t.equal(sent.length, 60, `step ${step}: every fix forwarded`);
    relay.stop();
  }
});

t.test('a burst after a stall: one frame per 500 ms of wall time, newest due fix, spaced a second in fix time', async (t) => {
  const { clock, relay, sent } = setup();
  const rec = job('accepted');
  const t0 = clock.now();
  relay.moved(rec, 41.1, -8.6, NaN, t0);
  clock.advance(5000);
  // Five seconds of fixes at 4 Hz arrive at once.
  for (let i = 1; i <= 20; i++) relay.moved(rec, 41.1 + i * 1e-5, -8.6, NaN, t0 + i * 250);
  t.equal(sent.length, 2, 'the first due fix goes out at once');
  t.equal(sent[1]!.ts - t0, 1000, 'the fix 1 s after the last sent');
  clock.advance(2000);
  t.equal(sent.length, 3, 'the rest of the burst: one frame when the wall gap is up, nothing queued');
  t.equal(sent[2]!.at - sent[1]!.at, 500);
  t.equal(sent[2]!.ts - t0, 5000, 'carrying the newest fix');
  relay.moved(rec, 41.2, -8.6, NaN, t0 + 5250);
  t.equal(sent.length, 3, 'not due by fix time');
  relay.moved(rec, 41.2, -8.6, NaN, t0 + 6000);
  t.equal(sent.length, 4);
  t.equal(sent[3]!.ts - t0, 6000);
  relay.stop();
});

t.test('ETA follows the state: pickup while accepted, absent while arrived, dropoff in progress, absent without dropoff', async (t) => {
  const { clock, relay, sent } = setup();
  const t0 = clock.now();
  const eta: EtaModel = new BaselineEta(8.3);
  relay.moved(job('accepted'), 41.1, -8.6, NaN, t0);
  t.equal(sent[0]!.eta_s, eta.seconds(41.1, -8.6, PICKUP.lat, PICKUP.lng, t0), 'to the pickup');
  clock.advance(1000);
  relay.moved(job('arrived'), 41.1, -8.6, NaN, t0 + 1000);
  t.equal(sent[1]!.eta_s, undefined, 'absent while arrived');
  clock.advance(1000);
  const inProgress = job('in_progress');
  relay.moved(inProgress, 41.12, -8.6, NaN, t0 + 2000);
  t.equal(sent[2]!.eta_s, eta.seconds(41.12, -8.6, DROPOFF.lat, DROPOFF.lng, t0 + 2000), 'to the dropoff');
  clock.advance(1000);
  relay.moved(job('in_progress', null), 41.13, -8.6, NaN, t0 + 3000);
  t.equal(sent[3]!.eta_s, undefined, 'absent in progress without a dropoff');
  relay.stop();
});

t.test('a send waiting for the wall gap uses the state the job has when it goes out', async (t) => {
  const { clock, relay, sent } = setup();
  const t0 = clock.now();
  relay.moved(job('accepted'), 41.1, -8.6, NaN, t0);
  clock.advance(100);
  relay.moved(job('accepted'), 41.1001, -8.6, NaN, t0 + 1000);
  t.equal(sent.length, 1, 'waiting');
  relay.jobChanged(job('in_progress'));
  clock.advance(400);
  t.equal(sent.length, 2);
  t.equal(sent[1]!.eta_s, (new BaselineEta(8.3) as EtaModel).seconds(41.1001, -8.6, DROPOFF.lat, DROPOFF.lng, t0 + 500), 'ETA to the dropoff');
  relay.forget('j1');
  t.equal(clock.pending, 0);
});
