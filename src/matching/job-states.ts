// The job state machine: which event moves which state where. Pure; every transition is in this table.
import type { JobState } from '../protocol/messages.js';
import { FINAL_STATES } from '../protocol/job-record.js';

export type JobEventKind =
  | 'accept' // a driver accepted the offer
  | 'arrived' // the driver reached the pickup
  | 'start' // the rider is on board
  | 'complete' // trip done
  | 'driver_cancel' // the assigned driver gave the job back: dispatch again without them
  | 'rider_cancel' // the rider ended it
  | 'give_up'; // dispatch ran out of candidates or attempts

const TABLE: Record<JobState, Partial<Record<JobEventKind, JobState>>> = {
  dispatching: { accept: 'accepted', rider_cancel: 'cancelled', give_up: 'unfulfilled' },
  accepted: { arrived: 'arrived', start: 'in_progress', driver_cancel: 'dispatching', rider_cancel: 'cancelled' },
  arrived: { start: 'in_progress', driver_cancel: 'dispatching', rider_cancel: 'cancelled' },
  in_progress: { complete: 'completed' },
  completed: {},
  cancelled: {},
  unfulfilled: {},
};

/** The state `event` leads to from `state`, or null when that transition is illegal. */
export function nextState(state: JobState, event: JobEventKind): JobState | null {
  return TABLE[state][event] ?? null;
}

/** States in which a driver is assigned and the rider receives `pos` frames. */
export const ASSIGNED_STATES: ReadonlySet<JobState> = new Set(['accepted', 'arrived', 'in_progress']);

export function isFinal(s: JobState): boolean {
  return FINAL_STATES.has(s);
}
