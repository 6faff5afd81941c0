// Per-driver fix ordering, duplicate and jump rules (docs/protocol.md "Driver fixes"): pure, no I/O.
import { METRES_PER_DEGREE, haversineMetres } from '../fleet/geo.js';
import type { FixBudget } from '../config/fix-budget.js';
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
  /** Not judged: storage is too far behind, the fix is refused (resend later). */
  overloaded: 5,
  /** Not judged: the driver's fix budget is spent, the fix is refused (resend later). */
  rateLimited: 6,
} as const;
export type FixVerdictCode = (typeof FixVerdict)[keyof typeof FixVerdict];

/** Fixes that must agree with each other, in a row, for a jumped-to position to win. */
export const JUMP_RECOVERY_FIXES = 3;
/** Recent accepted timestamps remembered per driver for duplicate detection. */
const RECENT = 8;
/** Floats per driver for the jump chain: [ts, lat, lng] × (JUMP_RECOVERY_FIXES - 1). */
const CHAIN = 3 * (JUMP_RECOVERY_FIXES - 1);

/**
 * The state ingest keeps per driver, in flat typed arrays by slot (no object per driver): the anchor
 * (newest accepted fix), a ring of recent accepted timestamps for duplicate detection, the fix budget
 * (8 bytes: tokens and the time of the last refill), and the length of its jump chain. About 100 bytes per
 * driver plus its id's map entry. The chain itself (rejected jump fixes that agree with each other, 48 bytes)
 * is held only for drivers that have one, in a map by slot: few drivers jump, so a column for every
 * driver cost 48 B each at 1,000,000 drivers (issue #18, measured by `taxiway bench memory`).
 */
export class DriverTracks {
  private readonly slots = new Map<string, number>();
  /** Drivers the fleet let go whose budget was not full yet (see `forget`): few, the heavy senders. */
  private readonly owing = new Set<string>();
  private free: number[] = [];
  private cap: number;
  private used = 0;
  private lastTs: Float64Array;
  private lastLat: Float64Array;
  private lastLng: Float64Array;
  private recent: Float64Array;
  private recentPos: Uint8Array;
  /** Jump chains by slot, only while a driver has one (chainLen > 0): [ts, lat, lng] × (JUMP_RECOVERY_FIXES - 1). */
  private readonly chains = new Map<number, Float64Array>();
  private chainLen: Uint8Array;
  /** Budget tokens left (float: refills are fractional). */
  private tokens: Float32Array;
  /** Server time of the last refill, ms modulo 2^32 (differences are taken modulo 2^32 as well). */
  private refilled: Uint32Array;
  /** Budget tokens per ms; 0 when there is no budget. */
  private readonly perMs: number;
  private readonly burst: number;

  /** `budget` undefined: no fix budget (every fix is judged). */
  constructor(initialCapacity = 1024, budget?: FixBudget) {
    this.perMs = budget ? budget.ratePerS / 1000 : 0;
    this.burst = budget ? budget.burst : Infinity;
    this.cap = Math.max(16, initialCapacity);
    this.tokens = new Float32Array(this.cap);
    this.refilled = new Uint32Array(this.cap);
    this.lastTs = new Float64Array(this.cap);
    this.lastLat = new Float64Array(this.cap);
    this.lastLng = new Float64Array(this.cap);
    this.recent = new Float64Array(this.cap * RECENT);
    this.recentPos = new Uint8Array(this.cap);
    this.chainLen = new Uint8Array(this.cap);
  }

  get size(): number {
    return this.slots.size;
  }

  /** The driver's slot, created on first sight (with a full budget). */
  slotFor(driver: string): number {
    let s = this.slots.get(driver);
    if (s !== undefined) return s;
    s = this.free.length > 0 ? this.free.pop()! : this.used++;
    if (s >= this.cap) this.grow();
    // A full bucket stays full whatever the first refill computes from this time, so any value will do.
    this.tokens[s] = this.burst;
    this.refilled[s] = 0;
    this.lastTs[s] = -Infinity;
    this.recent.fill(NaN, s * RECENT, (s + 1) * RECENT);
    this.recentPos[s] = 0;
    this.clearChain(s);
    this.slots.set(driver, s);
    return s;
  }

  /**
   * Forget a driver (it left the fleet) at server time `nowMs`: its slot is reused. A driver whose budget
   * has not refilled to the full burst yet is kept instead, as forgetting it would hand it a fresh burst
   * (the fleet expires drivers by fix time, so a driver sending only old fixes leaves it every few
   * seconds while it floods); `forgetOwing` retries those.
   */
  forget(driver: string, nowMs: number): void {
    const s = this.slots.get(driver);
    if (s === undefined) return;
    if (this.perMs !== 0 && this.refill(s, nowMs) < this.burst) {
      this.owing.add(driver);
      return;
    }
    this.owing.delete(driver);
    this.slots.delete(driver);
    this.clearChain(s);
    this.free.push(s);
  }

  /**
   * A kept driver is back in the live fleet (a live fix): it is no longer waiting to be forgotten, or a
   * later `forgetOwing` would drop its jump and duplicate state while it drives (its next fix would then
   * pass as a first sighting). The fleet's next expiry of it calls `forget` again.
   */
  rejoined(driver: string): void {
    if (this.owing.size !== 0) this.owing.delete(driver);
  }

  /** Forget the drivers `forget` kept for their budget whose budget is full again at `nowMs`. */
  forgetOwing(nowMs: number): void {
    for (const d of this.owing) this.forget(d, nowMs);
  }

  /** Drivers kept after `forget` because their budget was not full. */
  get owingCount(): number {
    return this.owing.size;
  }

  /** The driver's slot, or -1 when ingest holds no state for it. */
  slotOf(driver: string): number {
    const s = this.slots.get(driver);
    return s === undefined ? -1 : s;
  }

  /**
   * Take one budget token of `slot` at server time `nowMs` (ms): false, and nothing taken, when fewer
   * than one is left. Always true without a budget. The refill uses the time since the last refill
   * modulo 2^32 ms as a signed number: a clock stepping back refills nothing (and restarts the count).
   */
  take(slot: number, nowMs: number): boolean {
    if (this.perMs === 0) return true;
    const t = this.refill(slot, nowMs);
    if (t < 1) return false;
    this.tokens[slot] = t - 1;
    return true;
  }

  /** Budget tokens left for `slot` at `nowMs` (refills first); Infinity without a budget. */
  tokensLeft(slot: number, nowMs: number): number {
    return this.perMs === 0 ? Infinity : this.refill(slot, nowMs);
  }

  private refill(slot: number, nowMs: number): number {
    const now = nowMs >>> 0;
    const dt = (now - this.refilled[slot]!) | 0;
    let t = this.tokens[slot]!;
    if (dt !== 0) {
      this.refilled[slot] = now;
      if (dt > 0) {
        t = Math.min(this.burst, t + dt * this.perMs);
        this.tokens[slot] = t;
      }
    }
    return t;
  }

  /** Anchor (newest accepted fix) of a slot: ts ms (-Infinity when none), lat, lng degrees. */
  anchor(slot: number): { ts: number; lat: number; lng: number } {
    return { ts: this.lastTs[slot]!, lat: this.lastLat[slot]!, lng: this.lastLng[slot]! };
  }

  /**
   * Judge one range-valid fix (ms, degrees) of the driver in `slot` at server time `nowMs`, updating
   * its state for accepted fixes.
   *
   * Rule (exact):
   * 1. ts > now + 60 s → future (rejected).
   * 2. ts equal to the anchor's or one of the last 8 accepted ts → duplicate (dropped). (An older repeat is
   *    stored again under the same key, which the history store makes idempotent.)
   * 3. If the driver has an accepted fix, the implied speed between it and this fix
   *    (haversine metres / |Δts| s) above 250 km/h → jump (rejected). A jump newer than the anchor joins
   *    the jump chain: it extends the chain when it is newer than the chain's last fix and within
   *    250 km/h of it, otherwise it starts a new chain. When the chain would reach 3 fixes, this third fix
   *    is accepted instead (the old anchor was the outlier): it becomes the anchor and the live position.
   * 4. Otherwise accepted: newer than the anchor → live (moves the position), older → history only.
   * Any accepted fix clears the chain.
   */
  judge(slot: number, ts: number, lat: number, lng: number, nowMs: number): FixVerdictCode {
    if (ts > nowMs + Limits.maxFutureMs) return FixVerdict.future;
    const lastTs = this.lastTs[slot]!;
    if (ts === lastTs) return FixVerdict.duplicate;
    const r = slot * RECENT;
    const recent = this.recent;
    for (let i = 0; i < RECENT; i++) if (recent[r + i] === ts) return FixVerdict.duplicate;
    if (lastTs !== -Infinity && tooFast(lastTs, this.lastLat[slot]!, this.lastLng[slot]!, ts, lat, lng)) {
      // Only fixes newer than the anchor may build a chain: old fixes must never move the position back.
      if (ts <= lastTs) return FixVerdict.jump;
      const n = this.chainLen[slot]!;
      let c = n > 0 ? this.chains.get(slot) : undefined;
      const l = 3 * (n - 1);
      const extends_ = c !== undefined && ts > c[l]! && !tooFast(c[l]!, c[l + 1]!, c[l + 2]!, ts, lat, lng);
      if (extends_ && n + 1 >= JUMP_RECOVERY_FIXES) {
        this.clearChain(slot);
        this.accept(slot, ts, lat, lng, true);
        return FixVerdict.live;
      }
      if (c === undefined) {
        c = this.chains.get(slot) ?? new Float64Array(CHAIN);
        this.chains.set(slot, c);
      }
      const at = 3 * (extends_ ? n : 0);
      c[at] = ts;
      c[at + 1] = lat;
      c[at + 2] = lng;
      this.chainLen[slot] = extends_ ? n + 1 : 1;
      return FixVerdict.jump;
    }
    if (this.chainLen[slot] !== 0) this.clearChain(slot);
    const newer = ts > lastTs;
    this.accept(slot, ts, lat, lng, newer);
    return newer ? FixVerdict.live : FixVerdict.history;
  }

  private clearChain(slot: number): void {
    this.chainLen[slot] = 0;
    if (this.chains.size !== 0) this.chains.delete(slot);
  }

  private accept(slot: number, ts: number, lat: number, lng: number, moveAnchor: boolean): void {
    const p = this.recentPos[slot]!;
    this.recent[slot * RECENT + p] = ts;
    this.recentPos[slot] = (p + 1) % RECENT;
    if (moveAnchor) {
      this.lastTs[slot] = ts;
      this.lastLat[slot] = lat;
      this.lastLng[slot] = lng;
    }
  }

  private grow(): void {
    const cap = this.cap * 2;
    const f64 = (a: Float64Array, per: number): Float64Array => {
      const b = new Float64Array(cap * per);
      b.set(a);
      return b;
    };
    const u8 = (a: Uint8Array): Uint8Array => {
      const b = new Uint8Array(cap);
      b.set(a);
      return b;
    };
    this.lastTs = f64(this.lastTs, 1);
    this.lastLat = f64(this.lastLat, 1);
    this.lastLng = f64(this.lastLng, 1);
    this.recent = f64(this.recent, RECENT);
    this.recentPos = u8(this.recentPos);
    this.chainLen = u8(this.chainLen);
    const tokens = new Float32Array(cap);
    tokens.set(this.tokens);
    this.tokens = tokens;
    const refilled = new Uint32Array(cap);
    refilled.set(this.refilled);
    this.refilled = refilled;
    this.cap = cap;
  }
}

/**
 * Whether moving between two fixes (ms, degrees) implies more than Limits.maxSpeedMps along the great circle.
 * Exported for its cross-check against the plain haversine rule (test/ingest-jump-filter.test.ts).
 */
export function tooFast(t1: number, lat1: number, lng1: number, t2: number, lat2: number, lng2: number): boolean {
  const dt = Math.abs(t2 - t1) / 1000;
  if (dt === 0) return haversineMetres(lat1, lng1, lat2, lng2) > 0;
  // Most fixes move a few metres: skip the trigonometry when even a bound above the distance is slow enough.
  // The great circle is no longer than going along the meridian (R·|Δφ|) then along the parallel
  // (R·cos φ·|Δλ| ≤ R·|Δλ|), Δλ wrapped; the 1e-9 margin covers haversine's rounding. Same verdicts, exactly.
  const dLat = Math.abs(lat2 - lat1);
  let dLng = Math.abs(lng2 - lng1);
  if (dLng > 180) dLng = 360 - dLng;
  if ((dLat + dLng) * METRES_PER_DEGREE * (1 + 1e-9) < Limits.maxSpeedMps * dt) return false;
  return haversineMetres(lat1, lng1, lat2, lng2) / dt > Limits.maxSpeedMps;
}
