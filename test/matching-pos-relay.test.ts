// PosRelay: at most one pos per second of fix time, never two within 500 ms, and a late send does not make later ones late.
import t from 'tap';
import { PosRelay } from '../src/matching/pos-relay.js';
import type { JobNotifier } from '../src/bus/deliveries.js';
import type { JobRecord } from '../src/protocol/job-record.js';
import { BaselineEta } from '../src/eta/baseline.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('a stall of 700 ms delays one frame, not every later one', async (t) => {
  const sent: number[] = [];
  const notifier = { jobPos: () => sent.push(Date.now()), toDriver() {}, jobChanged() {}, jobPosEnd() {} } as unknown as JobNotifier;
  const relay = new PosRelay(notifier, new BaselineEta(8.3));
  const rec = { id: 'j1', state: 'accepted', pickup: { lat: 41.15, lng: -8.61 }, dropoff: null } as unknown as JobRecord;
  const t0 = Date.now();
  relay.moved(rec, 41.1, -8.6, NaN, t0);
  t.equal(sent.length, 1, 'first fix forwarded at once');
  // The next fix (1 s later by fix time) reaches the relay only 300 ms after the previous send: a burst after a stall.
  await sleep(300);
  const arrived = Date.now();
  relay.moved(rec, 41.1001, -8.6, NaN, t0 + 1000);
  await sleep(400);
  t.equal(sent.length, 2);
  const lag = sent[1]! - arrived;
  t.ok(lag >= 150 && lag < 350, `held only for the 500 ms wall gap (${lag} ms)`);
  // On schedule again: the fix after it goes out at once.
  await sleep(600);
  relay.moved(rec, 41.1002, -8.6, NaN, t0 + 2000);
  t.equal(sent.length, 3, 'no lateness carried over');
  // Faster than 1 Hz by fix time: held until a wall second after the last send, newest position kept.
  relay.moved(rec, 41.1003, -8.6, NaN, t0 + 2200);
  relay.moved(rec, 41.1004, -8.6, NaN, t0 + 2400);
  t.equal(sent.length, 3, 'held');
  await sleep(1100);
  t.equal(sent.length, 4, 'one frame for the two held fixes');
  t.ok(sent[3]! - sent[2]! >= 990, 'a wall second after the previous');
  relay.stop();
});
