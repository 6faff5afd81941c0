// Frames for sockets, routed over the bus so they reach the node holding the socket (every node in cluster mode).
import { Packr, Unpackr } from 'msgpackr';
import type { JobRecord } from '../protocol/job-record.js';
import type { Bus } from './bus.js';

/** Bus channel of socket deliveries (offers, job frames, positions) between nodes. */
export const DELIVERY_CHANNEL = 'deliver';

/**
 * Where frames go: matching pushes them into one (BusNotifier, over the bus), and every node's delivery
 * targets (the hub, matching's cache of active jobs) receive them through `attachDeliveries`.
 * Guarantees: a frame reaches the socket it is for on whichever node holds it, and no other; driver
 * frames and job changes are reliable and in order per publishing node; positions are latest-only (a
 * slow socket keeps only the newest per job, which still arrives; `jobPosEnd` drops a held one); a
 * driver's newer socket on any node closes the older one (`CloseCodes.replaced`). Like the bus, it is
 * best-effort across a node's disconnection from the bus. Contract suite: test/contract/delivery-contract.ts.
 */
export interface JobNotifier {
  /** Send to a driver's open socket, on whichever node holds it. */
  toDriver(driver: string, frame: Buffer): void;
  /** A job changed state: its rider's followers, its driver's node caches and ops dashboards. */
  jobChanged(rec: JobRecord, frame: Buffer): void;
  /** The assigned driver moved: followers get the newest `frame` (latest-only). */
  jobPos(job: string, frame: Buffer): void;
  /** The job no longer has a driver on the way: drop any `pos` frame still held for slow followers. */
  jobPosEnd(job: string): void;
  /**
   * A driver socket opened on node `node` at `openedAt` (ms): a node holding an older socket of that driver
   * closes it (one connection per driver across the cluster).
   */
  driverOpened(driver: string, node: string, openedAt: number): void;
  /** A frame for every ops dashboard subscribed to `city` (or to all cities), on every node (zone events). */
  toOps(city: string, frame: Buffer): void;
}

type Envelope =
  | { k: 'd'; to: string; f: Buffer }
  | { k: 'j'; rec: JobRecord; f: Buffer }
  | { k: 'p'; job: string; f: Buffer }
  | { k: 'e'; job: string }
  | { k: 'o'; to: string; n: string; at: number }
  | { k: 'z'; city: string; f: Buffer };

const packr = new Packr({ useRecords: false, moreTypes: false, skipValues: [undefined] } as ConstructorParameters<typeof Packr>[0]);
const unpackr = new Unpackr({ mapsAsObjects: true, useRecords: false, int64AsType: 'number' });

/** Publishes every notification as one bus message on `channel`. */
export class BusNotifier implements JobNotifier {
  constructor(private readonly bus: Bus, private readonly channel: string) {}
  toDriver(driver: string, frame: Buffer): void {
    this.send({ k: 'd', to: driver, f: frame });
  }
  jobChanged(rec: JobRecord, frame: Buffer): void {
    this.send({ k: 'j', rec, f: frame });
  }
  jobPos(job: string, frame: Buffer): void {
    this.send({ k: 'p', job, f: frame });
  }
  jobPosEnd(job: string): void {
    this.send({ k: 'e', job });
  }
  driverOpened(driver: string, node: string, openedAt: number): void {
    this.send({ k: 'o', to: driver, n: node, at: openedAt });
  }
  toOps(city: string, frame: Buffer): void {
    this.send({ k: 'z', city, f: frame });
  }

  private send(e: Envelope): void {
    this.bus.publish(this.channel, packr.pack(e));
  }
}

/** Subscribe `targets` to the delivery channel. Malformed messages are counted and dropped. */
export async function attachDeliveries(bus: Bus, channel: string, targets: Array<Partial<JobNotifier>>, onBad: (err: unknown) => void): Promise<void> {
  await bus.subscribe(channel, (payload) => {
    let e: Envelope;
    try {
      e = unpackr.unpack(payload) as Envelope;
    } catch (err) {
      onBad(err);
      return;
    }
    const f = e.k === 'e' || e.k === 'o' ? undefined : Buffer.isBuffer(e.f) ? e.f : Buffer.from(e.f);
    for (const t of targets) {
      switch (e.k) {
        case 'd':
          t.toDriver?.(e.to, f!);
          break;
        case 'j':
          t.jobChanged?.(e.rec, f!);
          break;
        case 'p':
          t.jobPos?.(e.job, f!);
          break;
        case 'e':
          t.jobPosEnd?.(e.job);
          break;
        case 'z':
          if (typeof e.city === 'string') t.toOps?.(e.city, f!);
          break;
        case 'o':
          if (typeof e.to === 'string' && typeof e.n === 'string' && typeof e.at === 'number') t.driverOpened?.(e.to, e.n, e.at);
          break;
      }
    }
  });
}
