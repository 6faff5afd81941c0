// The ops `jobs` frame: live jobs read from the job repository once per scope, encoded once for every ops socket asking at that time.
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import type { Metrics } from '../observability/metrics.js';
import { encodeFrame, msInt } from '../protocol/codec.js';
import type { JobRecord } from '../protocol/job-record.js';
import { jobEntry } from './job-frames.js';
import type { JobListQuery, JobPage } from './job-repo.js';

/** Most jobs one repository page is asked for (the `GET /v1/jobs` maximum too). */
const PAGE_LIMIT = 500;
/**
 * Most pages one snapshot reads. A cluster repository may return short pages (it bounds the work of one
 * call), so the cap alone does not bound the reads; past this the snapshot stops with `more: true`.
 */
const MAX_PAGES = 400;

export interface LiveJobSnapshotDeps {
  /** The job repository's listing (JobService.list). */
  list(q: JobListQuery): Promise<JobPage>;
  fleet: Pick<FleetRegistry, 'position'>;
  metrics: Pick<Metrics, 'opsSnapshots' | 'opsSnapshotJobs'>;
  /** Most jobs in one snapshot (TAXIWAY_OPS_SNAPSHOT_MAX_JOBS); 0 sends an empty list with `more: true`. */
  maxJobs: number;
  /** Told when the repository could not be read (the frame then says `more: true`). */
  onError?(err: unknown): void;
}

/**
 * Builds `{t:"jobs", ts, city?, jobs:[...], more}` (docs/protocol.md, "Live-job snapshot").
 * Guarantees: never rejects (a repository failure gives an empty or partial list with `more: true`);
 * holds at most `maxJobs` records; callers asking for the same scope while a read is under way share
 * that read and the one encoded Buffer.
 */
export class LiveJobSnapshots {
  private readonly inFlight = new Map<string, Promise<Buffer>>();

  constructor(private readonly d: LiveJobSnapshotDeps) {}

  /** The snapshot frame of one city, or of every city when `city` is null. */
  frame(city: string | null): Promise<Buffer> {
    const key = city === null ? '' : 'c:' + city;
    let p = this.inFlight.get(key);
    if (!p) {
      p = this.build(city).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  private async build(city: string | null): Promise<Buffer> {
    const max = this.d.maxJobs;
    const recs: JobRecord[] = [];
    let more = max === 0;
    let failed = false;
    if (max > 0) {
      try {
        let cursor: string | undefined;
        for (let pages = 0; ; pages++) {
          if (pages === MAX_PAGES) {
            more = true;
            break;
          }
          // One more than the cap tells whether the cap cut the list.
          const q: JobListQuery = { state: 'live', limit: Math.min(PAGE_LIMIT, max + 1 - recs.length) };
          if (city !== null) q.city = city;
          if (cursor !== undefined) q.cursor = cursor;
          const page = await this.d.list(q);
          for (const r of page.jobs) recs.push(r);
          if (recs.length > max) {
            recs.length = max;
            more = true;
            break;
          }
          if (page.next === null) break;
          cursor = page.next;
        }
      } catch (e) {
        failed = true;
        more = true;
        this.d.onError?.(e);
      }
    }
    this.d.metrics.opsSnapshots.inc({ result: failed ? 'failed' : more ? 'truncated' : 'complete' });
    this.d.metrics.opsSnapshotJobs.inc(recs.length);
    const jobs = recs.map((r) => jobEntry(r, this.driverOf(r.driver)));
    return encodeFrame({ t: 'jobs', ts: msInt(Date.now()), city: city ?? undefined, jobs, more });
  }

  private driverOf(id: string | null): { id: string; lat?: number; lng?: number } | undefined {
    if (!id) return undefined;
    const p = this.d.fleet.position(id);
    return p ? { id, lat: p.lat, lng: p.lng } : { id };
  }
}
