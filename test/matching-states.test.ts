// The job state machine: every legal and every illegal transition.
import t from 'tap';
import { nextState, isFinal } from '../src/matching/job-states.js';
import type { JobEventKind } from '../src/matching/job-states.js';
import { JOB_STATES } from '../src/protocol/messages.js';
import type { JobState } from '../src/protocol/messages.js';

const LEGAL: Record<string, JobState> = {
  'dispatching accept': 'accepted',
  'dispatching rider_cancel': 'cancelled',
  'dispatching give_up': 'unfulfilled',
  'accepted arrived': 'arrived',
  'accepted start': 'in_progress',
  'accepted driver_cancel': 'dispatching',
  'accepted rider_cancel': 'cancelled',
  'arrived start': 'in_progress',
  'arrived driver_cancel': 'dispatching',
  'arrived rider_cancel': 'cancelled',
  'in_progress complete': 'completed',
};
const EVENTS: JobEventKind[] = ['accept', 'arrived', 'start', 'complete', 'driver_cancel', 'rider_cancel', 'give_up'];

t.test('every (state, event) pair', async (t) => {
  let legal = 0;
  for (const s of JOB_STATES) {
    for (const e of EVENTS) {
      const want = LEGAL[`${s} ${e}`] ?? null;
      t.equal(nextState(s, e), want, `${s} --${e}--> ${want ?? 'illegal'}`);
      if (want) legal++;
    }
  }
  t.equal(legal, Object.keys(LEGAL).length);
});

t.test('final states have no way out', async (t) => {
  for (const s of ['completed', 'cancelled', 'unfulfilled'] as const) {
    t.ok(isFinal(s));
    for (const e of EVENTS) t.equal(nextState(s, e), null);
  }
  for (const s of ['dispatching', 'accepted', 'arrived', 'in_progress'] as const) t.notOk(isFinal(s));
});
