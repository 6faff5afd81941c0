// Search board: this node's view of the jobs still `dispatching` per city, learned from job deliveries, to wake them cheaply on driver events.
import type { DispatchSettings } from '../config/dispatch-settings.js';
import type { JobRecord } from '../protocol/job-record.js';
import type { PolicyName } from './dispatch-policy.js';
import { searchStart, widestRadiusM } from './search-window.js';

/** One dispatching job as the board keeps it: what a driver event is tested against. */
export interface BoardEntry {
  id: string;
  city: string;
  product: string;
  lat: number;
  lng: number;
  /** When its current search began, ms since the epoch. */
  start: number;
  /** When the job was created, ms since the epoch (its policy choice is a function of it). */
  created: number;
  policy: PolicyName;
  /** The job's settings (city settings with its policy's parameters). */
  s: DispatchSettings;
  /** Bounding box of its widest search radius, degrees: the cheap first test of a driver position. */
  minLat: number;
  maxLat: number;
  minLng: number;
  maxLng: number;
  /** Before this (ms since the epoch) driver events do not wake it: it holds an offer, or was just woken. */
  quietUntil: number;
}

const M_PER_DEG_LAT = 111_195;

/**
 * Not authoritative (the job repository is): a job may be here with an offer out (a wake-up then finds
 * that and goes quiet until the offer's expiry), and a node that missed a delivery learns the job from a
 * dispatch step it runs (timers, the batch solver's resync). Bounded by the live jobs of the cluster.
 */
export class SearchBoard {
  private readonly byCity = new Map<string, Map<string, BoardEntry>>();
  private readonly cityOf = new Map<string, string>();

  get size(): number {
    return this.cityOf.size;
  }

  /** Put (or refresh) a dispatching job. Keeps the quiet time of an entry already there for the same search. */
  add(rec: JobRecord, policy: PolicyName, s: DispatchSettings): BoardEntry {
    const old = this.get(rec.id);
    const start = searchStart(rec);
    if (old && old.start === start && old.policy === policy) return old;
    if (old) this.remove(rec.id);
    const e: BoardEntry = {
      id: rec.id, city: rec.city, product: rec.product, lat: rec.pickup.lat, lng: rec.pickup.lng, start, created: rec.created_ts, policy, s,
      minLat: 0, maxLat: 0, minLng: 0, maxLng: 0, quietUntil: 0,
    };
    this.update(e, policy, s);
    let m = this.byCity.get(rec.city);
    if (!m) this.byCity.set(rec.city, (m = new Map()));
    m.set(rec.id, e);
    this.cityOf.set(rec.id, rec.city);
    return e;
  }

  /** The job's policy or settings changed (a catalog change): its wake-up box follows, and it may be woken at once. */
  update(e: BoardEntry, policy: PolicyName, s: DispatchSettings): void {
    const r = widestRadiusM(s);
    const dLat = r / M_PER_DEG_LAT;
    const dLng = dLat / Math.max(0.01, Math.cos((e.lat * Math.PI) / 180));
    e.policy = policy;
    e.s = s;
    e.minLat = e.lat - dLat;
    e.maxLat = e.lat + dLat;
    e.minLng = e.lng - dLng;
    e.maxLng = e.lng + dLng;
    e.quietUntil = 0;
  }

  remove(id: string): void {
    const city = this.cityOf.get(id);
    if (city === undefined) return;
    this.cityOf.delete(id);
    const m = this.byCity.get(city)!;
    m.delete(id);
    if (m.size === 0) this.byCity.delete(city);
  }

  get(id: string): BoardEntry | undefined {
    const city = this.cityOf.get(id);
    return city === undefined ? undefined : this.byCity.get(city)?.get(id);
  }

  /** The city's dispatching jobs (live view: do not add or remove while iterating). */
  city(name: string): Iterable<BoardEntry> {
    return this.byCity.get(name)?.values() ?? [];
  }

  /** Entries of the city whose widest search box holds (lat, lng) degrees, into `out` (cleared first). */
  near(city: string, lat: number, lng: number, out: BoardEntry[]): BoardEntry[] {
    out.length = 0;
    const m = this.byCity.get(city);
    if (!m) return out;
    for (const e of m.values()) if (lat >= e.minLat && lat <= e.maxLat && lng >= e.minLng && lng <= e.maxLng) out.push(e);
    return out;
  }
}
