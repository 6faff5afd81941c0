// Zone enter/exit of each driver from its fixes, with hysteresis against GPS jitter at the edge; per-driver state in flat typed columns.
import type { IndexedZone, ZoneIndex } from '../catalog/zone-index.js';
import type { ZoneDef } from '../catalog/zones.js';
import type { MoveListener } from '../ingest/ingest.js';

export type ZoneEventKind = 'enter' | 'exit';
/** A driver entered or left a zone at `ts` (ms since the epoch: the fix's time, or the server's on expiry). */
export type ZoneListener = (driver: string, zone: ZoneDef, ev: ZoneEventKind, ts: number) => void;

/**
 * Which zone each driver is in, from the ingest fix stream. A driver enters a zone with its first fix
 * inside it (edge included) and leaves it after `exitFixes` consecutive fixes outside it (hysteresis:
 * one jittery fix across the edge does not flap), or at once when the zone is deleted or the driver
 * leaves the live fleet (`forget`). A driver is in at most one zone: the smallest holding its fix
 * (ZoneIndex). State per driver: a slot in two typed columns (zone handle + 1, fixes outside), slots
 * reused; a driver never seen inside a zone holds no slot. Listeners run in the order added, on the
 * node that ingests the driver's fixes.
 */
export class ZoneWatch {
  private readonly slots = new Map<string, number>();
  private readonly freeSlots: number[] = [];
  /** Zone handle + 1 per slot (0: in no zone). */
  private zone = new Int32Array(256);
  /** Consecutive fixes outside the current zone per slot. */
  private outside = new Uint16Array(256);
  private used = 0;
  private readonly listeners: ZoneListener[] = [];

  constructor(private readonly index: ZoneIndex, private readonly exitFixes: number) {}

  /** Add a listener of zone events (called in the order added). Never replaces earlier ones. */
  addZoneListener(l: ZoneListener): void {
    this.listeners.push(l);
  }

  /** The zone `driver` is in now, if any (what a dispatch hook or a reconnect reads). */
  zoneOf(driver: string): ZoneDef | undefined {
    const slot = this.slots.get(driver);
    if (slot === undefined || this.zone[slot] === 0) return undefined;
    return this.index.byHandleOf(this.zone[slot]! - 1)?.def;
  }

  /** Ingest move listener: allocates nothing per fix for a driver whose zone does not change. */
  readonly moveListener: MoveListener = (driver, fleet, fix) => {
    const slot = this.slots.get(driver);
    const cur = slot === undefined ? 0 : this.zone[slot]!;
    if (cur !== 0) {
      const z = this.index.byHandleOf(cur - 1)!;
      if (z.live && fleet !== undefined && z.def.city === fleet.name && this.index.holds(z, fix.lat, fix.lng)) {
        this.outside[slot!] = 0;
        return;
      }
      if (z.live && ++this.outside[slot!]! < this.exitFixes) return;
      this.zone[slot!] = 0;
      this.outside[slot!] = 0;
      this.emit(driver, z.def, 'exit', fix.ts);
    }
    if (fleet === undefined) return;
    const z = this.index.find(fleet.name, fix.lat, fix.lng);
    if (z === undefined) return;
    this.enter(driver, slot, z);
    this.emit(driver, z.def, 'enter', fix.ts);
  };

  /** Drivers left the live fleet: each still in a zone exits it now; their slots are freed. */
  forget(ids: readonly string[]): void {
    const now = Date.now();
    for (const id of ids) {
      const slot = this.slots.get(id);
      if (slot === undefined) continue;
      const cur = this.zone[slot]!;
      this.zone[slot] = 0;
      this.outside[slot] = 0;
      this.slots.delete(id);
      this.freeSlots.push(slot);
      if (cur !== 0) this.emit(id, this.index.byHandleOf(cur - 1)!.def, 'exit', now);
    }
  }

  private enter(driver: string, slot: number | undefined, z: IndexedZone): void {
    if (slot === undefined) {
      slot = this.freeSlots.pop() ?? this.used++;
      if (slot >= this.zone.length) this.grow();
      this.slots.set(driver, slot);
    }
    this.zone[slot] = z.handle + 1;
    this.outside[slot] = 0;
  }

  private grow(): void {
    const zone = new Int32Array(this.zone.length * 2);
    zone.set(this.zone);
    const outside = new Uint16Array(this.outside.length * 2);
    outside.set(this.outside);
    this.zone = zone;
    this.outside = outside;
  }

  private emit(driver: string, zone: ZoneDef, ev: ZoneEventKind, ts: number): void {
    for (let i = 0; i < this.listeners.length; i++) this.listeners[i]!(driver, zone, ev, ts);
  }
}
