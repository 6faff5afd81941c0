// Turns each source's stream of GPS fixes into driven segments (metres, seconds), dropping gaps and GPS jumps.
import { haversineMetres } from '../fleet/geo.js';

/** Longer gaps say nothing about the road between the two fixes (seconds). */
export const MAX_GAP_S = 120;
/** Faster than this (162 km/h) is a GPS jump, not driving (m/s). */
export const MAX_SPEED_MPS = 45;

export type SegmentSink = (source: string, lat1: number, lng1: number, lat2: number, lng2: number, metres: number, seconds: number, tsMs: number) => void;

export class FixPairer {
  private readonly last = new Map<string, { lat: number; lng: number; ts: number }>();

  constructor(private readonly sink: SegmentSink) {}

  get sources(): number {
    return this.last.size;
  }

  /** A fix of `source` at (lat, lng) degrees, `tsMs` ms since the epoch. Out-of-order fixes are ignored. */
  observe(source: string, lat: number, lng: number, tsMs: number): void {
    const p = this.last.get(source);
    if (!p) {
      this.last.set(source, { lat, lng, ts: tsMs });
      return;
    }
    const dt = (tsMs - p.ts) / 1000;
    if (!(dt > 0)) return;
    const m = haversineMetres(p.lat, p.lng, lat, lng);
    // A jump is dropped and the jumped-to fix kept as the new anchor, as the ingest rules do.
    if (dt <= MAX_GAP_S && m / dt <= MAX_SPEED_MPS) this.sink(source, p.lat, p.lng, lat, lng, m, dt, p.ts);
    p.lat = lat;
    p.lng = lng;
    p.ts = tsMs;
  }

  forget(source: string): void {
    this.last.delete(source);
  }
}
