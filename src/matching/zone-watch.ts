// Zone enter/exit of each driver from its fixes, with hysteresis against GPS jitter at the edge; per-driver state in flat typed columns.
import { resolve } from '../catalog/zone-grid.js';
import { holdsIn } from '../catalog/zone-index.js';
import type { CityZones, ZoneIndex } from '../catalog/zone-index.js';
import type { ZoneDef } from '../catalog/zones.js';
import type { MoveListener } from '../ingest/ingest.js';

export type ZoneEventKind = 'enter' | 'exit';
/** A driver entered or left a zone at `ts` (ms since the epoch: the fix's time, or the server's on expiry). */
export type ZoneListener = (driver: string, zone: ZoneDef, ev: ZoneEventKind, ts: number) => void;

/**
 * Int32s per driver slot: zone handle + 1 (0: none), fixes outside it, where it settled (-1 - (x | y << 11 |
 * r << 22): within r cells of cell (x, y) the answer is the same, see ZoneGrid.cells; 0: not settled), that
 * grid's id. Grids have at most 1025 cells a side (11 bits) and r ≤ 255.
 */
const STRIDE = 4;


/**
 * Which zone each driver is in, from the ingest fix stream. A driver enters a zone with its first fix
 * inside it (edge included) and leaves it after `exitFixes` consecutive fixes outside it (hysteresis:
 * one jittery fix across the edge does not flap), or at once when the zone is deleted or the driver
 * leaves the live fleet (`forget`). A driver is in at most one zone: the smallest holding its fix
 * (ZoneIndex). Listeners run in the order added, on the node that ingests the driver's fixes.
 *
 * Cost per fix (benchmarks/zone-ingest.ts): no map lookup (state is kept by ingest's slot, whose owner
 * is checked when it matters), then its city's grid cell (a few multiplications). A driver whose last fix
 * settled it (in no zone, or in a cell its zone wholly holds) costs a compare or two while its fixes stay
 * within the square around that cell where the grid's answer cannot differ (ZoneGrid.cells' radius:
 * often hundreds of metres). Otherwise one cell read, and an exact polygon test only on boundary cells.
 * State: four Int32s (16 B) per ingest slot, and a map entry per driver in a zone; allocates nothing per fix.
 */
export class ZoneWatch {
  /** Drivers in a zone now, and their slot (for `forget` and `zoneOf`; changed on enter and exit only). */
  private readonly inZone = new Map<string, number>();
  /** Per ingest slot, STRIDE Int32s (see STRIDE); grown on demand. */
  private st = new Int32Array(1024 * STRIDE);
  /** Per ingest slot, the driver its state belongs to (ingest reuses slots of drivers it forgot). */
  private owner: Array<string | undefined> = [];
  private readonly listeners: ZoneListener[] = [];

  constructor(private readonly index: ZoneIndex, private readonly exitFixes: number) {}

  /** Add a listener of zone events (called in the order added). Never replaces earlier ones. */
  addZoneListener(l: ZoneListener): void {
    this.listeners.push(l);
  }

  /** The zone `driver` is in now, if any (what a dispatch hook or a reconnect reads). */
  zoneOf(driver: string): ZoneDef | undefined {
    const slot = this.inZone.get(driver);
    if (slot === undefined) return undefined;
    return this.index.byHandleOf(this.st[slot * STRIDE]! - 1)?.def;
  }

  /** Ingest move listener (`slot`: ingest's slot of the driver): allocates nothing per fix. */
  readonly moveListener: MoveListener = (driver, fleet, fix, slot) => {
    const c = fleet === undefined ? undefined : this.index.zonesOf(fleet.name);
    const lat = fix.lat, lng = fix.lng;
    let st = this.st;
    const o = slot * STRIDE;
    let x = -1, y = -1, cell = -1;
    if (c !== undefined) {
      const g = c.grid;
      x = Math.floor((lng - g.gx) * g.invLng);
      y = Math.floor((lat - g.gy) * g.invLat);
      if (x >= 0 && y >= 0 && x < g.nx && y < g.ny) {
        cell = y * g.nx + x;
        // Still within the square where it settled: nothing can have changed (see ZoneGrid.cells). In no zone,
        // the answer is "none" for anyone (whoever owned the slot before); in a zone, only for the same driver.
        if (o < st.length && st[o + 3] === g.id) {
          const k = st[o + 2]!;
          if (k < 0) {
            const m = -1 - k, r = m >>> 22;
            if (Math.abs(x - (m & 2047)) < r && Math.abs(y - ((m >>> 11) & 2047)) < r && (st[o] === 0 || this.owner[slot] === driver)) return;
          }
        }
      }
    }
    if (this.owner[slot] !== driver) {
      this.claim(driver, slot, fix.ts);
      st = this.st;
    }
    st[o + 2] = 0;
    const w = cell < 0 ? 0 : c!.grid.cells[cell]!;
    const v = w >> 8;
    const cur = st[o]!;
    if (cur !== 0) {
      const z = this.index.byHandleOf(cur - 1)!;
      if (z.live && c !== undefined && z.def.city === fleet!.name && holdsIn(z, v, lat, lng)) {
        st[o + 1] = 0;
        if (v === z.pos + 1) this.settle(o, x, y, w, c);
        return;
      }
      if (z.live && ++st[o + 1]! < this.exitFixes) return;
      st[o] = 0;
      st[o + 1] = 0;
      this.inZone.delete(driver);
      this.emit(driver, z.def, 'exit', fix.ts);
    }
    if (c === undefined) return;
    const p = resolve(c.grid, c.zones, v, lat, lng);
    if (p < 0) {
      if (v === 0) this.settle(o, x, y, w, c);
      return;
    }
    const z = c.zones[p]!;
    st[o] = z.handle + 1;
    st[o + 1] = 0;
    this.inZone.set(driver, slot);
    if (v === z.pos + 1) this.settle(o, x, y, w, c);
    this.emit(driver, z.def, 'enter', fix.ts);
  };

  /** Drivers left the live fleet: each still in a zone exits it now. */
  forget(ids: readonly string[]): void {
    const now = Date.now();
    for (const id of ids) {
      const slot = this.inZone.get(id);
      if (slot === undefined) continue;
      this.inZone.delete(id);
      const o = slot * STRIDE;
      const cur = this.st[o]!;
      this.st.fill(0, o, o + STRIDE);
      if (cur !== 0) this.emit(id, this.index.byHandleOf(cur - 1)!.def, 'exit', now);
    }
  }

  /**
   * `slot` now belongs to `driver` (first fix, or ingest reused the slot): a previous owner still in a zone
   * exits it (ingest forgot that driver without `forget` here).
   */
  private claim(driver: string, slot: number, ts: number): void {
    const prev = this.owner[slot];
    const o = slot * STRIDE;
    if (prev !== undefined && o < this.st.length && this.st[o] !== 0) {
      const cur = this.st[o]!;
      this.st.fill(0, o, o + STRIDE);
      if (this.inZone.get(prev) === slot) this.inZone.delete(prev);
      this.emit(prev, this.index.byHandleOf(cur - 1)!.def, 'exit', ts);
    }
    while (o + STRIDE > this.st.length) {
      const st = new Int32Array(this.st.length * 2);
      st.set(this.st);
      this.st = st;
    }
    while (this.owner.length <= slot) this.owner.push(undefined);
    this.owner[slot] = driver;
    this.st.fill(0, o, o + STRIDE);
  }

  /**
   * The fix at cell (x, y) of `c`'s grid (packed value `w`: a decided cell, with its radius) settled the
   * driver, in no zone or in the zone holding the whole cell: until it leaves the square of that radius
   * its fixes need no work.
   */
  private settle(o: number, x: number, y: number, w: number, c: CityZones): void {
    const r = w & 255;
    if (r === 0) return;
    this.st[o + 2] = -1 - (x | (y << 11) | (r << 22));
    this.st[o + 3] = c.grid.id;
  }

  private emit(driver: string, zone: ZoneDef, ev: ZoneEventKind, ts: number): void {
    for (let i = 0; i < this.listeners.length; i++) this.listeners[i]!(driver, zone, ev, ts);
  }
}
