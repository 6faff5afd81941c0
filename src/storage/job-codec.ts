// Shared job-event validation and the split between an event's key (job, seq) and its stored body.
import type { JobEvent } from './ports.js';

/** What an adapter stores per event; `job` and `seq` live in the key. */
export interface StoredJobEvent {
  ts: number;
  state: JobEvent['state'];
  by: string;
  snapshot: JobEvent['snapshot'];
}

/** Rejects events that would corrupt ordering or keys (seq is a positive integer per the port). */
export function checkJobEvent(ev: JobEvent): void {
  if (typeof ev.job !== 'string' || ev.job.length === 0) throw new TypeError('job event: job id must be a non-empty string');
  if (!Number.isSafeInteger(ev.seq) || ev.seq < 1) throw new TypeError(`job event ${ev.job}: seq must be an integer >= 1`);
  if (ev.snapshot === null || typeof ev.snapshot !== 'object') throw new TypeError(`job event ${ev.job}: snapshot missing`);
}

export function toStoredEvent(ev: JobEvent): StoredJobEvent {
  return { ts: ev.ts, state: ev.state, by: ev.by, snapshot: ev.snapshot };
}

export function fromStoredEvent(job: string, seq: number, s: StoredJobEvent): JobEvent {
  return { job, seq, ts: s.ts, state: s.state, by: s.by, snapshot: s.snapshot };
}
