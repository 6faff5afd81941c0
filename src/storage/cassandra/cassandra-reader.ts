// Read side of the Cassandra adapter: a driver's track from fix chunks, a job's events, recent jobs by party.
import type { QueryOptions, types } from 'cassandra-driver';
import type { Client } from './cassandra-client.js';
import { DAY_MS, dayOf, periodOf } from './cassandra-buckets.js';
import { MAX_ABS_TS, decodeChunk, sliceOf } from '../chunk-codec.js';
import { BUCKET_FIXES, partyKind } from './cassandra-writer.js';
import { clampLimit, isQueryableRange, toPoint, type FixValue, type TrackPoint } from '../fix-codec.js';
import { MAX_RECENT_JOBS, type JobEvent, type JobParty, type JobRecord, type TrackPage } from '../ports.js';

const INT32_MAX = 2 ** 31 - 1;
const num = (v: unknown): number => (typeof v === 'number' ? v : (v as types.Long).toNumber());

export class CassandraReader {
  private readonly q: Record<'days' | 'chunks' | 'events' | 'latest' | 'periods' | 'party' | 'partyBefore', string>;
  private readonly opts: QueryOptions;

  constructor(private readonly client: Client, keyspace: string, consistency: number, readTimeoutMs: number) {
    const ks = keyspace;
    this.q = {
      days: `SELECT bucket FROM ${ks}.buckets WHERE kind = ? AND id = ? AND bucket >= ? AND bucket <= ?`,
      chunks: `SELECT slice, fixes FROM ${ks}.fix_chunks WHERE driver = ? AND day = ? AND slice >= ? AND slice < ?`,
      events: `SELECT seq, ts, state, caused_by, snapshot FROM ${ks}.job_events WHERE job = ?`,
      latest: `SELECT snapshot FROM ${ks}.job_events WHERE job = ? ORDER BY seq DESC LIMIT 1`,
      periods: `SELECT bucket FROM ${ks}.buckets WHERE kind = ? AND id = ? AND bucket <= ? ORDER BY bucket DESC`,
      party: `SELECT job FROM ${ks}.jobs_by_party WHERE party = ? AND id = ? AND period = ? LIMIT ?`,
      partyBefore: `SELECT job FROM ${ks}.jobs_by_party WHERE party = ? AND id = ? AND period = ? AND created_ts < ? LIMIT ?`,
    };
    this.opts = { prepare: true, isIdempotent: true, consistency, readTimeout: readTimeoutMs };
  }

  /**
   * Visits only the days the bucket index lists, then the slices overlapping [from, to) in order.
   * Within a slice, chunks come in timeuuid order, so a later chunk's value for a ts wins.
   */
  async track(driver: string, fromMs: number, toMs: number, limit: number): Promise<TrackPage> {
    const n = clampLimit(limit);
    const points: TrackPoint[] = [];
    if (!isQueryableRange(fromMs, toMs)) return { points };
    const lo = Math.max(fromMs, -MAX_ABS_TS);
    const hi = Math.min(toMs, MAX_ABS_TS + 1);
    if (!(lo < hi)) return { points };
    const days = await this.client.execute(this.q.days, [BUCKET_FIXES, driver, dayOf(lo), dayOf(Math.ceil(hi) - 1)], this.opts);
    let slice = NaN;
    let acc = new Map<number, FixValue>();
    /** Moves the finished slice's fixes into points; true once a page and one more point are known. */
    const endSlice = (): boolean => {
      const ts = [...acc.keys()].filter((t) => t >= fromMs && t < toMs).sort((a, b) => a - b);
      for (const t of ts) {
        points.push(toPoint(t, acc.get(t)!));
        if (points.length > n) return true;
      }
      acc = new Map();
      return false;
    };
    outer: for (const row of days.rows) {
      const day = row.get('bucket') as number;
      const params = [driver, day, Math.max(sliceOf(lo), day * DAY_MS), Math.min(Math.ceil(hi), (day + 1) * DAY_MS)];
      let pageState: string | undefined;
      do {
        const rs = await this.client.execute(this.q.chunks, params, { ...this.opts, fetchSize: 200, pageState });
        for (const r of rs.rows) {
          const s = num(r.get('slice'));
          if (s !== slice) {
            if (endSlice()) break outer;
            slice = s;
          }
          decodeChunk(s, r.get('fixes') as Buffer, (t, v) => acc.set(t, v));
        }
        pageState = rs.pageState ?? undefined;
      } while (pageState);
    }
    if (points.length <= n) endSlice();
    return points.length > n ? { points: points.slice(0, n), next: points[n]![0] } : { points };
  }

  async jobEvents(id: string): Promise<JobEvent[]> {
    const rs = await this.client.execute(this.q.events, [id], this.opts);
    return rs.rows.map((r) => ({
      job: id,
      seq: r.get('seq') as number,
      ts: num(r.get('ts')),
      state: r.get('state') as JobEvent['state'],
      by: r.get('caused_by') as string,
      snapshot: JSON.parse(r.get('snapshot') as string) as JobRecord,
    }));
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const rs = await this.client.execute(this.q.latest, [id], this.opts);
    return rs.rowLength ? (JSON.parse(rs.first().get('snapshot') as string) as JobRecord) : undefined;
  }

  /** Walks the party's 30-day periods newest first until `limit` job ids are found, then loads their snapshots. */
  async recentJobs(party: JobParty, id: string, limit: number, beforeMs: number): Promise<JobRecord[]> {
    const n = Math.min(clampLimit(limit), MAX_RECENT_JOBS);
    if (Number.isNaN(beforeMs) || beforeMs <= -MAX_ABS_TS) return [];
    const finite = beforeMs <= MAX_ABS_TS;
    const top = finite ? periodOf(beforeMs) : INT32_MAX;
    const periods = await this.client.execute(this.q.periods, [partyKind(party), id, top], this.opts);
    const ids: string[] = [];
    for (const row of periods.rows) {
      const period = row.get('bucket') as number;
      const rs = finite
        ? await this.client.execute(this.q.partyBefore, [party, id, period, Math.ceil(beforeMs), n - ids.length], this.opts)
        : await this.client.execute(this.q.party, [party, id, period, n - ids.length], this.opts);
      for (const r of rs.rows) ids.push(r.get('job') as string);
      if (ids.length >= n) break;
    }
    const jobs = await Promise.all(ids.map((j) => this.getJob(j)));
    return jobs.filter((j): j is JobRecord => j !== undefined);
  }

  /** True when a coordinator answers a trivial read. */
  async ping(timeoutMs: number): Promise<boolean> {
    try {
      await this.client.execute('SELECT release_version FROM system.local', [], { ...this.opts, readTimeout: timeoutMs });
      return true;
    } catch {
      return false;
    }
  }
}
