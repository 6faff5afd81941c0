// `queue` frames: each node tells the drivers whose sockets it holds their place in their airport queue, coalesced per queue.
import type { Bus } from '../bus/bus.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { encodeFrame } from '../protocol/codec.js';
import type { QueueFrame } from '../protocol/messages.js';
import type { Clock, ClockTimer } from '../util/clock.js';
import type { QueueRef, ZoneQueue } from './zone-queue.js';

/** Bus channel on which a node that changed a queue announces it (payload JSON `{c: city, z: zone}`). */
export const QUEUE_CHANNEL = 'zq';

/** The driver sockets this node holds (the hub). */
export interface LocalDrivers {
  has(driver: string): boolean;
  send(driver: string, frame: Buffer): void;
  /** How many driver sockets this node holds (none: nothing to send, no queue read). */
  count(): number;
}

export interface QueueFramesDeps {
  queue: ZoneQueue;
  bus: Bus;
  local: LocalDrivers;
  /** Least ms between two flushes of one queue (TAXIWAY_QUEUE_FRAME_MS): at most one frame per driver per this. */
  frameMs: number;
  /** Least ms between two frames to one driver whose position did not change (TAXIWAY_QUEUE_LENGTH_FRAME_MS). */
  lengthFrameMs: number;
  /** Most drivers a queue holds: a flush reads all of them. */
  maxLength: number;
  metrics: Pick<Metrics, 'zoneQueueFrames' | 'zoneQueueLength'>;
  logger: Logger;
  clock: Clock;
}

interface Sent { pos: number; len: number; at: number }
interface QueueState { q: QueueRef; sent: Map<string, Sent>; timer: ClockTimer | null; timerAt: number; running: boolean; again: boolean; lastRun: number }

/**
 * What a driver gets: `{t:"queue", zone, city, position, length}` when it joins, when its position
 * changes, and when only the length changed but its last frame is `lengthFrameMs` old; `{..., position:
 * 0, left: true}` once it is out. Each node reads a changed queue at most every `frameMs` (changes in
 * between are sent together) and sends frames only to its own sockets, so a 300-driver queue whose head
 * leaves costs each node one read and one frame per driver it holds. A driver whose socket moved to
 * this node (a reconnect) gets its place on its next join (its first fix in the zone there).
 */
export class QueueFrames {
  private readonly queues = new Map<string, QueueState>();
  private stopped = false;

  constructor(private readonly d: QueueFramesDeps) {}

  /** Listen for other nodes' changes. */
  async start(): Promise<void> {
    await this.d.bus.subscribe(QUEUE_CHANNEL, (payload) => {
      let m: { c?: unknown; z?: unknown };
      try {
        m = JSON.parse(payload.toString()) as typeof m;
      } catch {
        return;
      }
      if (typeof m.c === 'string' && typeof m.z === 'string') this.touched({ city: m.c, zone: m.z });
    });
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.queues.values()) if (s.timer) this.d.clock.clearTimeout(s.timer);
    this.queues.clear();
  }

  /** A queue's order or length changed: every node (this one through the bus too) re-sends its frames. */
  readonly changed = (q: QueueRef): void => {
    this.d.bus.publish(QUEUE_CHANNEL, Buffer.from(JSON.stringify({ c: q.city, z: q.zone })));
  };

  /**
   * Re-send this node's frames of the queue whose place changed (soon: at most every frameMs); `driver`,
   * when given, gets its place again even if unchanged (it re-joined: it may be on a new socket).
   */
  readonly touched = (q: QueueRef, driver?: string): void => {
    if (this.stopped) return;
    const k = `${q.city}\u0000${q.zone}`;
    let s = this.queues.get(k);
    if (!s) {
      if (this.d.local.count() === 0) return;
      this.queues.set(k, (s = { q, sent: new Map(), timer: null, timerAt: 0, running: false, again: false, lastRun: 0 }));
    }
    if (driver !== undefined) s.sent.delete(driver);
    this.schedule(s, 0);
  };

  private schedule(s: QueueState, atLeastMs: number): void {
    if (s.running) {
      s.again = true;
      return;
    }
    const now = this.d.clock.now();
    const wait = Math.max(atLeastMs, s.lastRun + this.d.frameMs - now, 0);
    // A flush armed for later (a deferred length-only frame) is brought forward by a new change.
    if (s.timer) {
      if (s.timerAt <= now + wait) return;
      this.d.clock.clearTimeout(s.timer);
    }
    s.timerAt = now + wait;
    s.timer = this.d.clock.setTimeout(() => {
      s.timer = null;
      void this.flush(s);
    }, wait);
  }

  private async flush(s: QueueState): Promise<void> {
    if (this.stopped) return;
    s.running = true;
    s.lastRun = this.d.clock.now();
    let dueAt = Infinity;
    try {
      const { members, length } = await this.d.queue.list(s.q, 0, this.d.maxLength);
      this.d.metrics.zoneQueueLength.set({ zone: s.q.zone }, length);
      const now = this.d.clock.now();
      const { local } = this.d;
      const seen = new Set<string>();
      for (let i = 0; i < members.length; i++) {
        const driver = members[i]!.driver;
        if (!local.has(driver)) continue;
        seen.add(driver);
        const pos = i + 1;
        const prev = s.sent.get(driver);
        if (prev && prev.pos === pos && prev.len === length) continue;
        if (prev && prev.pos === pos && now - prev.at < this.d.lengthFrameMs) {
          dueAt = Math.min(dueAt, prev.at + this.d.lengthFrameMs);
          continue;
        }
        this.send(driver, { t: 'queue', zone: s.q.zone, city: s.q.city, position: pos, length });
        s.sent.set(driver, { pos, len: length, at: now });
      }
      for (const driver of [...s.sent.keys()]) {
        if (seen.has(driver)) continue;
        s.sent.delete(driver);
        if (local.has(driver)) this.send(driver, { t: 'queue', zone: s.q.zone, city: s.q.city, position: 0, length, left: true });
      }
    } catch (err) {
      this.d.logger.warn({ err, zone: s.q.zone }, 'airport queue not read: its queue frames wait for the next change');
    } finally {
      s.running = false;
    }
    if (this.stopped) return;
    if (s.again) {
      s.again = false;
      this.schedule(s, 0);
    } else if (dueAt < Infinity) this.schedule(s, dueAt - this.d.clock.now());
    else if (s.sent.size === 0) this.queues.delete(`${s.q.city}\u0000${s.q.zone}`);
  }

  private send(driver: string, frame: QueueFrame): void {
    this.d.local.send(driver, encodeFrame(frame));
    this.d.metrics.zoneQueueFrames.inc();
  }
}
