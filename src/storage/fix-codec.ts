// Shared fix encoding and track-query arguments, so every adapter treats NaN, limits and ranges alike.
import type { StoredFix } from './fix-batch.js';
import type { TrackPage } from './ports.js';

/** Most points one `track` page returns (callers clamp too; adapters re-clamp defensively). */
export const MAX_TRACK_LIMIT = 10_000;

/**
 * Stored value of one fix: [lat, lng, hdg, spd, acc] (degrees, degrees, degrees, m/s, metres).
 * A missing optional value (NaN or any non-finite number) is stored as null: msgpack encodes null
 * in 1 byte against 9 for a float64, and null is what `track` must return anyway.
 */
export type FixValue = [number, number, number | null, number | null, number | null];

export type TrackPoint = TrackPage['points'][number];

/** A fix is storable when it has a driver id and finite ts (ms) / lat / lng (degrees). */
export function isStorableFix(f: StoredFix): boolean {
  return (
    typeof f.driver === 'string' &&
    f.driver.length > 0 &&
    Number.isFinite(f.ts) &&
    Number.isFinite(f.lat) &&
    Number.isFinite(f.lng)
  );
}

function opt(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

export function encodeFix(f: StoredFix): FixValue {
  return [f.lat, f.lng, opt(f.hdg), opt(f.spd), opt(f.acc)];
}

/** Tolerates short or sparse values so a future encoding that trims trailing nulls still decodes. */
export function toPoint(ts: number, v: readonly (number | null | undefined)[]): TrackPoint {
  return [ts, v[0] as number, v[1] as number, v[2] ?? null, v[3] ?? null, v[4] ?? null];
}

/** Clamp a page size to 1..MAX_TRACK_LIMIT; NaN or junk becomes 1. */
export function clampLimit(limit: number): number {
  const n = Math.floor(limit);
  if (!(n >= 1)) return 1;
  return Math.min(n, MAX_TRACK_LIMIT);
}

/** True when [fromMs, toMs) can hold any fix: both numbers (infinities allowed) and from < to. */
export function isQueryableRange(fromMs: number, toMs: number): boolean {
  return typeof fromMs === 'number' && typeof toMs === 'number' && fromMs < toMs;
}
