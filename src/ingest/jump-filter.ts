// Per-driver fix ordering, duplicate and jump rules (docs/protocol.md "Driver fixes"): pure, no I/O.
import { haversineMetres } from '../fleet/geo.js';
import { Limits } from '../protocol/messages.js';

/** What ingest decided about one fix. */
export const FixVerdict = {
  /** Newest fix so far: stored and moves the live position. */
  live: 0,
  /** Older than the newest accepted: stored in history, live position unchanged. */
  history: 1,
  /** Same driver and ts as a recent accepted fix: dropped, not an error. */
  duplicate: 2,
  /** ts more than 60 s ahead of the server clock. */
  future: 3,
  /** Implies more than 250 km/h from the last accepted fix. */
  jump: 4,
} as const;
export type FixVerdictCode = (typeof FixVerdict)[keyof typeof FixVerdict];

/** Fixes that must agree with each other, in a row, for a jumped-to position to win. */
export const JUMP_RECOVERY_FIXES = 3;
const RECENT = 64;

/**
 * The state ingest keeps per driver: the anchor (newest accepted fix), a ring of recent accepted
 * timestamps for duplicate detection, and the chain of rejected jump fixes that agree with each other.
 */
export class DriverTrack {
  lastTs = -Infinity;
  lastLat = 0;
  lastLng = 0;
  private readonly recent = new Float64Array(RECENT).fill(NaN);
  private recentPos = 0;
  /** Rejected jump fixes that agree with each other: [ts, lat, lng] × (JUMP_RECOVERY_FIXES - 1). */
  private readonly chain = new Float64Array(3 * (JUMP_RECOVERY_FIXES - 1));
  private chainLen = 0;

  /**
   * Judge one range-valid fix (ms, degrees) at server time `nowMs`, updating the track for accepted fixes.
   *
   * Rule (exact):
   * 1. ts > now + 60 s → future (rejected).
   * 2. ts equal to the anchor's or one of the last 64 accepted ts → duplicate (dropped). (An older repeat is
 *    stored again under the same key, which the history store makes idempotent.)
   * 3. If the driver has an accepted fix, the implied speed between it and this fix
   *    (haversine metres / |Δts| s) above 250 km/h → jump (rejected). A jump newer than the anchor joins the jump chain:
   *    it extends the chain when it is newer than the chain's last fix and within 250 km/h of it,
   *    otherwise it starts a new chain. When the chain would reach 3 fixes, this third fix is accepted
   *    instead (the old anchor was the outlier): it becomes the anchor and the live position.
   * 4. Otherwise accepted: newer than the anchor → live (moves the position), older → history only.
   * Any accepted fix clears the chain.
   */
  judge(ts: number, lat: number, lng: number, nowMs: number): FixVerdictCode {
    if (ts > nowMs + Limits.maxFutureMs) return FixVerdict.future;
    if (ts === this.lastTs) return FixVerdict.duplicate;
    for (let i = 0; i < RECENT; i++) if (this.recent[i] === ts) return FixVerdict.duplicate;
    if (this.lastTs !== -Infinity && tooFast(this.lastTs, this.lastLat, this.lastLng, ts, lat, lng)) {
      // Only fixes newer than the anchor may build a chain: old fixes must never move the position back.
      if (ts <= this.lastTs) return FixVerdict.jump;
      const c = this.chain;
      const n = this.chainLen;
      const extends_ = n > 0 && ts > c[3 * (n - 1)]! && !tooFast(c[3 * (n - 1)]!, c[3 * (n - 1) + 1]!, c[3 * (n - 1) + 2]!, ts, lat, lng);
      if (extends_ && n + 1 >= JUMP_RECOVERY_FIXES) {
        this.chainLen = 0;
        this.accept(ts, lat, lng, true);
        return FixVerdict.live;
      }
      const at = extends_ ? n : 0;
      c[3 * at] = ts;
      c[3 * at + 1] = lat;
      c[3 * at + 2] = lng;
      this.chainLen = at + 1;
      return FixVerdict.jump;
    }
    this.chainLen = 0;
    const newer = ts > this.lastTs;
    this.accept(ts, lat, lng, newer);
    return newer ? FixVerdict.live : FixVerdict.history;
  }

  private accept(ts: number, lat: number, lng: number, moveAnchor: boolean): void {
    this.recent[this.recentPos] = ts;
    this.recentPos = (this.recentPos + 1) % RECENT;
    if (moveAnchor) {
      this.lastTs = ts;
      this.lastLat = lat;
      this.lastLng = lng;
    }
  }
}

function tooFast(t1: number, lat1: number, lng1: number, t2: number, lat2: number, lng2: number): boolean {
  const d = haversineMetres(lat1, lng1, lat2, lng2);
  const dt = Math.abs(t2 - t1) / 1000;
  if (dt === 0) return d > 0;
  return d / dt > Limits.maxSpeedMps;
}
