// Write items of the Cassandra adapter (a sealed fix chunk, a job event) and their spool record encoding.
import { pack, unpack } from 'msgpackr';
import { jobParties, type JobEvent } from '../ports.js';

/** A sealed chunk: fixes of one driver within one slice, with the timeuuid that makes its write idempotent. */
export interface ChunkItem {
  kind: 'chunk';
  driver: string;
  /** UTC day number (ms / 86,400,000), the partition bucket. */
  day: number;
  /** Slice start, ms. */
  slice: number;
  /** timeuuid string, fixed when sealed: every retry and replay writes the same row. */
  id: string;
  /** Fixes in the chunk. */
  n: number;
  blob: Buffer;
}

/** A job event with its snapshot already serialised (so later caller mutations cannot leak in). */
export interface EventItem {
  kind: 'event';
  job: string;
  seq: number;
  ts: number;
  state: string;
  by: string;
  /** JSON of the JobRecord. */
  snapshot: string;
  /** Index keys taken from the snapshot; null when absent. */
  rider: string | null;
  driver: string | null;
  createdTs: number | null;
}

export type WriteItem = ChunkItem | EventItem;

export function eventItem(ev: JobEvent): EventItem {
  const parties = jobParties(ev.snapshot);
  return {
    kind: 'event',
    job: ev.job,
    seq: ev.seq,
    ts: ev.ts,
    state: ev.state,
    by: ev.by,
    snapshot: JSON.stringify(ev.snapshot),
    rider: parties.find((p) => p.party === 'rider')?.id ?? null,
    driver: parties.find((p) => p.party === 'driver')?.id ?? null,
    createdTs: parties[0]?.createdTs ?? null,
  };
}

/** Fixes an item carries (0 for job events): the unit of queue limits and metrics. */
export const fixesIn = (it: WriteItem): number => (it.kind === 'chunk' ? it.n : 0);

// Arrays, not objects: a spool record should not repeat field names ~40,000 times a second.
type ChunkRecord = ['c', string, number, number, string, number, Buffer];
type EventRecord = ['e', string, number, number, string, string, string, string | null, string | null, number | null];

export function encodeItem(it: WriteItem): Buffer {
  const rec: ChunkRecord | EventRecord = it.kind === 'chunk'
    ? ['c', it.driver, it.day, it.slice, it.id, it.n, it.blob]
    : ['e', it.job, it.seq, it.ts, it.state, it.by, it.snapshot, it.rider, it.driver, it.createdTs];
  return pack(rec);
}

export function decodeItem(buf: Buffer): WriteItem {
  const r = unpack(buf) as ChunkRecord | EventRecord;
  if (!Array.isArray(r)) throw new Error('spool record: not an array');
  if (r[0] === 'c') {
    const [, driver, day, slice, id, n, blob] = r;
    return { kind: 'chunk', driver, day, slice, id, n, blob: Buffer.isBuffer(blob) ? blob : Buffer.from(blob as Uint8Array) };
  }
  if (r[0] === 'e') {
    const [, job, seq, ts, state, by, snapshot, rider, driver, createdTs] = r;
    return { kind: 'event', job, seq, ts, state, by, snapshot, rider, driver, createdTs };
  }
  throw new Error(`spool record: unknown kind ${String((r as unknown[])[0])}`);
}
