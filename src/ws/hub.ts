// Who is connected where: driver sockets by id, riders by followed job, ops; implements JobNotifier.
import type { JobNotifier } from '../bus/deliveries.js';
import { isFinalState } from '../protocol/job-record.js';
import type { JobRecord } from '../protocol/job-record.js';
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import { statusName } from '../fleet/city-fleet.js';
import { encodeFrame, msInt } from '../protocol/codec.js';
import { CloseCodes } from '../protocol/errors.js';
import type { Metrics } from '../observability/metrics.js';
import { Delivery } from './delivery.js';
import type { Sock } from './delivery.js';

/** Ops fleet snapshots go out at most this often, ms. */
export const FLEET_SNAPSHOT_MS = 500;

/** `job` frames a driver socket got straight from its own action whose fan-out copy is still to come (bound per socket). */
const MAX_OWN_FRAMES = 8;

export class Hub implements JobNotifier {
  readonly delivery = new Delivery();
  /** Every open socket, for shutdown. */
  readonly sockets = new Set<Sock>();
  private readonly drivers = new Map<string, Sock>();
  private readonly jobFollowers = new Map<string, Set<Sock>>();
  private readonly ops = new Set<Sock>();
  /**
   * Per driver socket: `job` frames delivered by `ownJobFrame` whose copy from the event fan-out has not
   * arrived yet (it is then skipped, not sent twice). Bounded: a copy the bus lost cannot pile up.
   */
  private readonly ownFrames = new WeakMap<Sock, Buffer[]>();
  private timer: NodeJS.Timeout | null = null;
  /** Where driver-socket openings are announced to every node, and this node's id (see `driverOpened`). */
  private announcer: { notifier: Pick<JobNotifier, 'driverOpened'>; node: string } | null = null;

  constructor(private readonly fleet: FleetRegistry, private readonly metrics: Metrics) {}

  /** Announce this node's driver-socket openings through `notifier`, as node `node` (cluster mode). */
  announceDriversTo(notifier: Pick<JobNotifier, 'driverOpened'>, node: string): void {
    this.announcer = { notifier, node };
  }

  start(): void {
    this.timer = setInterval(() => this.sendFleetSnapshots(), FLEET_SNAPSHOT_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * Register a driver socket; returns the socket it replaces on this node (the caller closes it). Other
   * nodes are told, so one holding an older socket of the driver closes it (`driverOpened`).
   */
  addDriver(id: string, ws: Sock): Sock | undefined {
    const old = this.drivers.get(id);
    this.drivers.set(id, ws);
    if (this.announcer) this.announcer.notifier.driverOpened(id, this.announcer.node, ws.getUserData().openedAt);
    return old;
  }

  /** The driver's socket on this node, if it has one. */
  driverSocket(id: string): Sock | undefined {
    return this.drivers.get(id);
  }

  /** Ids of the drivers connected to this node (cold paths: a catalog change). */
  driverIds(): IterableIterator<string> {
    return this.drivers.keys();
  }

  /** Unregister if `ws` is still the driver's current socket; true when it was. */
  removeDriver(id: string, ws: Sock): boolean {
    if (this.drivers.get(id) !== ws) return false;
    this.drivers.delete(id);
    return true;
  }

  follow(job: string, ws: Sock): void {
    let set = this.jobFollowers.get(job);
    if (!set) this.jobFollowers.set(job, (set = new Set()));
    set.add(ws);
    ws.getUserData().jobs.add(job);
    this.metrics.followedJobs.set(this.jobFollowers.size);
  }

  unfollow(job: string, ws: Sock): void {
    const set = this.jobFollowers.get(job);
    if (set) {
      set.delete(ws);
      if (set.size === 0) this.jobFollowers.delete(job);
    }
    ws.getUserData().jobs.delete(job);
    this.delivery.dropLatest(ws, 'pos:' + job);
    this.metrics.followedJobs.set(this.jobFollowers.size);
  }

  /** The job ended (its final frame went out): every socket here stops following it. */
  private endFollowing(job: string, set: Set<Sock>): void {
    this.jobFollowers.delete(job);
    for (const ws of set) {
      ws.getUserData().jobs.delete(job);
      this.delivery.dropLatest(ws, 'pos:' + job);
    }
    this.metrics.followedJobs.set(this.jobFollowers.size);
  }

  addOps(ws: Sock, city: string | null): void {
    const ud = ws.getUserData();
    ud.opsSub = true;
    ud.opsCity = city;
    this.ops.add(ws);
  }

  removeOps(ws: Sock): void {
    ws.getUserData().opsSub = false;
    this.ops.delete(ws);
  }

  /** Forget every registration of a closing socket. */
  closed(ws: Sock): void {
    const ud = ws.getUserData();
    ud.closed = true;
    this.sockets.delete(ws);
    for (const job of [...ud.jobs]) this.unfollow(job, ws);
    this.ops.delete(ws);
  }

  /** Close every socket with `code` (shutdown: `CloseCodes.goingAway`). */
  closeAll(code: number, reason: string): void {
    for (const ws of [...this.sockets]) {
      const ud = ws.getUserData();
      if (ud.closed) continue;
      ud.closed = true;
      ws.end(code, reason);
    }
  }

  // --- JobNotifier: frames arriving from the bus, for sockets on this node ---

  /**
   * A driver socket opened on another node: if this node holds an older one (by opening time, then node
   * id, so two nodes always agree which is older) it is closed (`CloseCodes.replaced`) and handed over: its
   * close does not mark the driver offline, the newer connection owns the driver now. An offer that went only to the
   * old socket is left to its timeout (declining it here could race an offer the new socket just got).
   */
  driverOpened(driver: string, node: string, openedAt: number): void {
    const self = this.announcer?.node;
    if (self === undefined || node === self) return;
    const ws = this.drivers.get(driver);
    if (!ws) return;
    const ud = ws.getUserData();
    if (ud.openedAt > openedAt || (ud.openedAt === openedAt && self > node)) return; // ours is the newer one
    this.drivers.delete(driver);
    this.metrics.wsHandovers.inc();
    if (ud.closed) return;
    ud.closed = true;
    ws.cork(() => ws.end(CloseCodes.replaced, 'replaced by a newer connection on another node'));
  }

  /**
   * The `job` frame caused by the driver's own action on `ws`, sent before that action's `ack` (the order
   * docs/protocol.md promises, on one node and in a cluster). The node handling the action holds the
   * socket, so it sends the frame itself rather than wait for the fan-out, whose copy `toDriver` then skips.
   */
  ownJobFrame(ws: Sock, frame: Buffer): void {
    if (ws.getUserData().closed) return;
    this.delivery.reliable(ws, frame);
    let own = this.ownFrames.get(ws);
    if (!own) this.ownFrames.set(ws, (own = []));
    if (own.length >= MAX_OWN_FRAMES) own.shift();
    own.push(frame);
  }

  toDriver(driver: string, frame: Buffer): void {
    const ws = this.drivers.get(driver);
    if (!ws) return;
    const ud = ws.getUserData();
    if (ud.closed) return;
    if (ud.actions > 0) {
      // The driver's own earlier frames are still being handled: their replies go out first. Otherwise a
      // driver could see the next offer before the ack of its `complete` (the claim is released in the
      // commit, and another node may offer at once), i.e. an offer while it still thinks it is busy.
      // A `job` frame one of those actions caused has then already been sent by `ownJobFrame`.
      ud.chain = ud.chain.then(() => this.sendToDriver(ws, frame));
    } else this.sendToDriver(ws, frame);
  }

  private sendToDriver(ws: Sock, frame: Buffer): void {
    if (ws.getUserData().closed) return;
    const own = this.ownFrames.get(ws);
    if (own) {
      for (let i = 0; i < own.length; i++) {
        if (own[i]!.equals(frame)) {
          own.splice(i, 1); // the fan-out copy of a frame this socket already got
          return;
        }
      }
    }
    this.delivery.reliable(ws, frame);
  }

  jobChanged(rec: JobRecord, frame: Buffer): void {
    const city = rec.city;
    const set = this.jobFollowers.get(rec.id);
    if (set) {
      for (const ws of set) this.delivery.reliable(ws, frame);
      // A final state is the job's last frame: following ends with it, so a rider socket's finished jobs
      // neither hold memory here nor count toward its MAX_FOLLOWED (a 2026-12-05 soak found every followed
      // job kept until the socket closed: one Set per job ever followed).
      if (isFinalState(rec.state)) this.endFollowing(rec.id, set);
    }
    for (const ws of this.ops) {
      const c = ws.getUserData().opsCity;
      if (c === null || c === city) this.delivery.reliable(ws, frame);
    }
  }

  toOps(city: string, frame: Buffer): void {
    for (const ws of this.ops) {
      const c = ws.getUserData().opsCity;
      if (c === null || c === city) this.delivery.reliable(ws, frame);
    }
  }

  jobPos(job: string, frame: Buffer): void {
    const set = this.jobFollowers.get(job);
    if (!set) return;
    const key = 'pos:' + job;
    const before = this.delivery.replaced;
    for (const ws of set) this.delivery.latest(ws, key, frame);
    if (this.delivery.replaced > before) this.metrics.posDropped.inc(this.delivery.replaced - before);
  }

  jobPosEnd(job: string): void {
    const set = this.jobFollowers.get(job);
    if (set) for (const ws of set) this.delivery.dropLatest(ws, 'pos:' + job);
  }

  // --- ops fleet snapshots ---

  /** One frame per city (encoded once), sent latest-only to every ops subscriber of that city. */
  private sendFleetSnapshots(): void {
    if (this.ops.size === 0) return;
    const now = Date.now();
    const byCity = new Map<string, Buffer>();
    let all: Buffer | undefined;
    for (const ws of this.ops) {
      const c = ws.getUserData().opsCity;
      let frame: Buffer | undefined;
      if (c === null) frame = all ??= this.fleetFrame(null, now);
      else {
        frame = byCity.get(c);
        if (!frame) byCity.set(c, (frame = this.fleetFrame(c, now)));
      }
      this.delivery.latest(ws, 'fleet', frame);
    }
  }

  private fleetFrame(city: string | null, now: number): Buffer {
    const drivers: Array<[string, number, number, string]> = [];
    for (const f of this.fleet.cities()) {
      if (city !== null && f.name !== city) continue;
      f.forEachAlive((slot) => {
        drivers.push([f.idAt(slot), f.lat[slot]!, f.lng[slot]!, statusName(f.status[slot] as 0 | 1 | 2)]);
      });
    }
    return encodeFrame({ t: 'fleet', ts: msInt(now), city: city ?? undefined, drivers });
  }

  counts(): { drivers: number; followedJobs: number; ops: number } {
    return { drivers: this.drivers.size, followedJobs: this.jobFollowers.size, ops: this.ops.size };
  }
}
