// One city's kdbush snapshot and what keeps it exact between rebuilds: drift, added slots, and the off-thread rebuild handshake.
import KDBush from 'kdbush';
import { lngDeltaDegrees } from './geo.js';
import { buildSplits, fillPoints } from './kd-nearest.js';
import type { KdSnapshot } from './kd-nearest.js';
import { growI32, growU8 } from './fleet-columns.js';
import type { FleetColumns } from './fleet-columns.js';

/** kdbush leaf size. Leaves end up between nodeSize / 2 and nodeSize points: ~23 for 100k drivers, where
 * the first leaf alone usually holds the 10 nearest; 16 (leaves of ~11) and 64 (~47) measured slower. */
export const NODE_SIZE = 32;

const EMPTY_SNAPSHOT: KdSnapshot = { coords: new Float64Array(0), nodeSize: NODE_SIZE, n: 0, pts: new Float64Array(0), splits: new Float64Array(0) };

/**
 * The snapshot state of a CityFleet (its part, not used alone): the fleet reports every added, moved and
 * removed slot, and nearest() reads `snap`, `posOf`, `added` and `maxDriftDeg` directly (hot path: no
 * copies, no getters). Per-slot arrays are kept as long as the fleet's columns through `grow()`.
 */
export class FleetSnapshot {
  /** What kdNearest reads: kdbush's sorted coords plus unit vectors and slots in the same (kd) order. */
  snap: KdSnapshot = EMPTY_SNAPSHOT;
  /** Backing buffer of snap.pts, reused across rebuilds (it may be longer than the snapshot). */
  private ptsBuf = new Float64Array(0);
  private splitsBuf: Float64Array = new Float64Array(0);
  /** Number of drivers in the current snapshot. */
  indexCount = 0;
  /**
   * kd position of each slot in the snapshot, or -1: the slot was not indexed, or its driver left since
   * (cleared on remove so a reused slot is not trusted). The snapshot position itself is snap.coords there.
   */
  posOf: Int32Array;
  /** 1 when the slot is already in `added`, so a slot removed and re-added is listed once. */
  private inAdded: Uint8Array;
  /** Slots allocated since the last rebuild, [0, addedCount); scanned linearly by nearest(). */
  added: Int32Array;
  addedCount = 0;
  /** Largest position change, degrees (lat, or wrapped lng), of any snapshotted driver since the last rebuild. */
  maxDriftDeg = 0;
  /** Upserts and removals since the last rebuild. */
  changesSinceIndex = 0;
  // ---- off-thread rebuild in flight (see beginAsync) ----
  /** Ticket of the build in flight, 0 when none; a result with another ticket is stale. */
  private pendingTicket = 0;
  private ticketSeq = 0;
  private changesAtBegin = 0;
  /** 1 for slots whose driver left while a build was in flight (their snapshot entries describe nobody). */
  private goneDuring: Uint8Array;
  private goneList: number[] = [];
  /** The copy buffer of the build in flight, and one whose build has answered (reused: see beginAsync). */
  private inputInFlight: SharedArrayBuffer | null = null;
  private spareInput: SharedArrayBuffer | null = null;

  constructor(cap: number) {
    this.posOf = new Int32Array(cap).fill(-1);
    this.inAdded = new Uint8Array(cap);
    this.added = new Int32Array(cap);
    this.goneDuring = new Uint8Array(cap);
  }

  /** The fleet's columns grew to `n` slots. */
  grow(n: number): void {
    this.posOf = growI32(this.posOf, n, -1);
    this.inAdded = growU8(this.inAdded, n);
    this.added = growI32(this.added, n);
    this.goneDuring = growU8(this.goneDuring, n);
  }

  /** A driver was given `slot`: it is scanned linearly until a rebuild indexes it. */
  slotAdded(slot: number): void {
    if (this.inAdded[slot] === 0) {
      this.inAdded[slot] = 1;
      this.added[this.addedCount++] = slot;
    }
  }

  /** The driver in `slot` is moving to (lat, lng) degrees (called before the columns change). */
  slotMoving(slot: number, lat: number, lng: number): void {
    const p = this.posOf[slot]!;
    if (p < 0) return;
    const c = this.snap.coords;
    const sLng = c[2 * p]!;
    const sLat = c[2 * p + 1]!;
    if (lat !== sLat || lng !== sLng) {
      // Track how far any snapshotted driver has wandered so nearest() can widen its cells by exactly that much,
      // and void its unit vector: the search then ranks it by its live position.
      const dLat = Math.abs(lat - sLat);
      const dLng = lngDeltaDegrees(lng, sLng);
      const d = dLat > dLng ? dLat : dLng;
      if (d > this.maxDriftDeg) this.maxDriftDeg = d;
      this.snap.pts[4 * p] = NaN;
    }
  }

  /** The driver in `slot` left: its snapshot entry now describes nobody, even if the slot is reused before the next rebuild. */
  slotRemoved(slot: number): void {
    const p = this.posOf[slot]!;
    if (p >= 0) {
      this.snap.pts[4 * p] = NaN;
      this.snap.pts[4 * p + 3] = -1;
      this.posOf[slot] = -1;
    }
    if (this.pendingTicket !== 0 && this.goneDuring[slot] === 0) {
      this.goneDuring[slot] = 1;
      this.goneList.push(slot);
    }
  }

  /** Rebuild in place over every live slot of `cols` (x = lng, y = lat) and reset drift tracking. O(n log n). */
  rebuild(cols: FleetColumns): void {
    this.cancelAsync();
    const n = cols.size;
    const limit = cols.slotLimit;
    const alive = cols.alive, lat = cols.lat, lng = cols.lng;
    if (this.ptsBuf.length < 4 * n) {
      // A little headroom so a growing fleet does not reallocate on every rebuild (pts is 32 B a driver,
      // so the headroom is kept small: it counts against the per-driver memory budget).
      this.ptsBuf = new Float64Array(4 * (n + (n >> 4)));
    }
    const pts = this.ptsBuf;
    // Slot of each kdbush item by item id, only until the items are in kd order.
    const itemSlot = new Int32Array(n);
    const kd = n > 0 ? new KDBush(n, NODE_SIZE) : null;
    let i = 0;
    for (let s = 0; s < limit; s++) {
      this.posOf[s] = -1;
      if (alive[s] === 1) {
        kd!.add(lng[s]!, lat[s]!);
        itemSlot[i++] = s;
      }
    }
    this.indexCount = i;
    if (kd) {
      kd.finish();
      const { ids, coords } = kd as unknown as { ids: Uint16Array | Uint32Array; coords: Float64Array };
      fillPoints(ids, coords, n, itemSlot, this.posOf, pts);
      this.splitsBuf = buildSplits(coords, n, NODE_SIZE, this.splitsBuf);
      this.snap = { coords, nodeSize: NODE_SIZE, n, pts, splits: this.splitsBuf };
    } else {
      this.snap = EMPTY_SNAPSHOT;
    }
    for (let j = 0; j < this.addedCount; j++) this.inAdded[this.added[j]!] = 0;
    this.addedCount = 0;
    this.maxDriftDeg = 0;
    this.changesSinceIndex = 0;
  }

  /** True while an off-thread rebuild is in flight. */
  get pending(): boolean {
    return this.pendingTicket !== 0;
  }

  /** Start an off-thread rebuild: [lng, lat, slot] of every live slot copied into a shared buffer (a linear pass). */
  beginAsync(cols: FleetColumns): { ticket: number; n: number; nodeSize: number; input: SharedArrayBuffer } {
    this.cancelAsync();
    const n = cols.size;
    const limit = cols.slotLimit;
    const alive = cols.alive, lat = cols.lat, lng = cols.lng;
    // Reuse the copy buffer of the last build that answered: a fresh 1.2 MB SharedArrayBuffer per rebuild (50,000
    // drivers, every 200 ms) was ~5 ms of page faults on the event loop each time, 4.6% of its busy time in the
    // CPU profile of `bench dispatch` at commit 0fa0c46. A buffer whose build was cancelled is never reused (the
    // worker may still be reading it).
    const need = 24 * Math.max(1, n);
    let input = this.spareInput;
    this.spareInput = null;
    if (input === null || input.byteLength < need) input = new SharedArrayBuffer(24 * (Math.max(1, n) + (n >> 3)));
    this.inputInFlight = input;
    const a = new Float64Array(input);
    let i = 0;
    for (let s = 0; s < limit; s++) {
      if (alive[s] !== 1) continue;
      a[3 * i] = lng[s]!;
      a[3 * i + 1] = lat[s]!;
      a[3 * i + 2] = s;
      i++;
    }
    this.pendingTicket = ++this.ticketSeq;
    this.changesAtBegin = this.changesSinceIndex;
    return { ticket: this.pendingTicket, n, nodeSize: NODE_SIZE, input };
  }

  /** Swap in an off-thread result; false when the ticket is stale. See CityFleet.installAsyncRebuild. */
  installAsync(cols: FleetColumns, ticket: number, n: number, data: SharedArrayBuffer | null, ptsBuf: SharedArrayBuffer | null, splits: Float64Array): boolean {
    if (ticket !== this.pendingTicket) return false;
    this.pendingTicket = 0;
    // The worker is done with this build's copy: the next rebuild writes into it.
    this.spareInput = this.inputInFlight;
    this.inputInFlight = null;
    const limit = cols.slotLimit;
    const alive = cols.alive, lat = cols.lat, lng = cols.lng;
    for (let s = 0; s < limit; s++) this.posOf[s] = -1;
    let drift = 0;
    if (n > 0 && data && ptsBuf) {
      const kd = KDBush.from(data) as unknown as { coords: Float64Array };
      const coords = kd.coords;
      const pts = new Float64Array(ptsBuf);
      for (let p = 0; p < n; p++) {
        const s = pts[4 * p + 3]!;
        if (this.goneDuring[s] === 1 || alive[s] !== 1) {
          pts[4 * p] = NaN;
          pts[4 * p + 3] = -1;
          continue;
        }
        this.posOf[s] = p;
        const dLat = Math.abs(lat[s]! - coords[2 * p + 1]!);
        const dLng = lngDeltaDegrees(lng[s]!, coords[2 * p]!);
        if (dLat !== 0 || dLng !== 0) {
          pts[4 * p] = NaN; // moved since the copy: rank by the live position
          const d = dLat > dLng ? dLat : dLng;
          if (d > drift) drift = d;
        }
      }
      this.snap = { coords, nodeSize: NODE_SIZE, n, pts, splits };
    } else {
      this.snap = EMPTY_SNAPSHOT;
    }
    this.clearGone();
    // Drivers not in this snapshot (added, or removed and re-added, during the build) are scanned linearly.
    for (let j = 0; j < this.addedCount; j++) this.inAdded[this.added[j]!] = 0;
    this.addedCount = 0;
    for (let s = 0; s < limit; s++) {
      if (alive[s] === 1 && this.posOf[s]! < 0) {
        this.inAdded[s] = 1;
        this.added[this.addedCount++] = s;
      }
    }
    this.indexCount = n;
    this.maxDriftDeg = drift;
    this.changesSinceIndex -= this.changesAtBegin;
    return true;
  }

  /** Forget an off-thread rebuild in flight (its result will be ignored). */
  cancelAsync(): void {
    this.pendingTicket = 0;
    this.inputInFlight = null;
    this.clearGone();
  }

  private clearGone(): void {
    for (const s of this.goneList) this.goneDuring[s] = 0;
    this.goneList.length = 0;
  }
}
