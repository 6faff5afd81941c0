// The simulated marketplace around one node: riders request and lose patience, drivers answer offers and drive, all as events in virtual time.
import type { EtaModel } from '../../eta/eta-model.js';
import type { DriverKind } from '../../matching/job-commands.js';
import { decodeFrame } from '../../protocol/codec.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { JobRecord } from '../../protocol/job-record.js';
import { FINAL_STATES } from '../../protocol/job-record.js';
import { mulberry32 } from '../../util/random.js';
import { TimeHeap } from '../../util/time-heap.js';
import type { VirtualClock } from '../../util/virtual-clock.js';
import type { Demand } from './demand.js';
import type { MarketNode, NodeListener } from './market-node.js';
import { Phase, SimDrivers } from './sim-drivers.js';
import type { RunTally } from './sim-stats.js';

/** A driver answers an offer this long after it arrives, uniform, ms (inside the default 10 s offer timeout). */
export const ANSWER_MIN_MS = 2_000;
export const ANSWER_MAX_MS = 8_000;
/** Time at the pickup between the driver's arrival and the rider on board, ms. */
export const BOARDING_MS = 60_000;
/** Every driver sends a fix this often, ms (as the protocol asks of real ones, coarser: idle drivers stand still). */
export const FIX_PERIOD_MS = 5_000;

const enum Kind { answer, atPickup, boarded, atDropoff, patience, fixTick }
interface Ev { k: Kind; i: number; gen: number; job: string }

/** Per job: which request it is and what the simulator saw of it. */
interface JobTrack { k: number; rider: string; createdMs: number; driver: number; final: boolean }

export interface WorldOptions {
  demand: Demand;
  drivers: SimDrivers;
  eta: EtaModel;
  /** Probability that a driver declines an offer, 0-1. */
  decline: number;
  seed: number;
  /** Virtual time of the run's start and of the end of demand, ms since the epoch. */
  startMs: number;
  demandEndMs: number;
}

/**
 * Listens to the node (offers, job changes) and plans the answers and trips as events; `step()` runs the
 * next event or node timer in time order. Same inputs, same run: the only randomness is a seeded stream,
 * drawn in event order.
 */
export class MarketWorld implements NodeListener {
  readonly tally: RunTally = {
    jobs: 0, completed: 0, cancelled: 0, unfulfilled: 0, live: 0, offers: 0, declines: 0, pickupWaitsMs: [], busyMs: 0,
    doubleJob: 0, doubleOffer: 0, endMs: 0,
  };
  private readonly q = new TimeHeap<Ev>();
  private readonly tracks = new Map<string, JobTrack>();
  /** Job id of each request once created. */
  private readonly jobOf: Array<string | undefined>;
  private next = 0;
  private readonly rnd: () => number;
  private node!: MarketNode;

  constructor(private readonly o: WorldOptions, private readonly clock: VirtualClock) {
    this.jobOf = new Array<string | undefined>(o.demand.n);
    this.rnd = mulberry32(o.seed ^ 0x0a11_ce5);
  }

  /** Put the drivers in the node's fleet, available, and start their fixes. */
  attach(node: MarketNode): void {
    this.node = node;
    const t = this.clock.now();
    const d = this.o.drivers;
    for (let i = 0; i < d.n; i++) {
      node.fleet.update(d.ids[i]!, d.lat(i, t), d.lng(i, t), t, NaN, NaN);
      node.fleet.setStatus(d.ids[i]!, 1 /* available */);
    }
    node.rebuild();
    this.push(t + FIX_PERIOD_MS, Kind.fixTick, -1, '');
  }

  /** Requests made and jobs not yet final. */
  get liveJobs(): number {
    return this.tally.jobs - this.tally.completed - this.tally.cancelled - this.tally.unfulfilled;
  }

  /** True once every request was made and every job is final. */
  get done(): boolean {
    return this.next >= this.o.demand.n && this.liveJobs === 0;
  }

  /** Time of the next thing to happen (request, event or node timer), ms; Infinity when nothing is left. */
  nextTime(): number {
    const a = this.next < this.o.demand.n ? this.o.startMs + this.o.demand.atMs[this.next]! : Infinity;
    return Math.min(a, this.q.peekTime(), this.clock.nextDue());
  }

  /** Run the next request, event or node timer (timers first at equal times). */
  async step(): Promise<void> {
    const tTimer = this.clock.nextDue();
    const tReq = this.next < this.o.demand.n ? this.o.startMs + this.o.demand.atMs[this.next]! : Infinity;
    const tEv = this.q.peekTime();
    if (tTimer <= tReq && tTimer <= tEv) {
      this.clock.fireNext();
      return;
    }
    if (tReq <= tEv) {
      this.clock.advanceTo(tReq);
      return this.request(this.next++);
    }
    this.clock.advanceTo(tEv);
    return this.handle(this.q.pop()!);
  }

  // ---- what the node says ----

  toDriver(driver: string, frame: Buffer): void {
    const i = this.o.drivers.indexOf(driver);
    if (i < 0) return;
    const f = decodeFrame(frame);
    const d = this.o.drivers;
    if (f.t === 'offer') {
      this.tally.offers++;
      if (d.offer[i] !== null) this.tally.doubleOffer++;
      d.offer[i] = String(f.job);
      const delay = ANSWER_MIN_MS + Math.floor(this.rnd() * (ANSWER_MAX_MS - ANSWER_MIN_MS));
      this.push(this.clock.now() + delay, Kind.answer, i, String(f.job));
    } else if (f.t === 'offer_revoked' && d.offer[i] === f.job) d.offer[i] = null;
  }

  jobChanged(rec: JobRecord): void {
    let tr = this.tracks.get(rec.id);
    if (!tr) {
      const k = Number(rec.rider.slice(1));
      tr = { k, rider: rec.rider, createdMs: rec.created_ts, driver: -1, final: false };
      this.tracks.set(rec.id, tr);
      this.jobOf[k] = rec.id;
      this.tally.jobs++;
    }
    if (tr.final) return;
    const now = this.clock.now();
    const d = this.o.drivers;
    if (rec.state === 'accepted' && rec.driver) this.accepted(tr, rec, d.indexOf(rec.driver), now);
    else if (rec.state === 'arrived') this.tally.pickupWaitsMs.push(now - tr.createdMs);
    else if (FINAL_STATES.has(rec.state)) {
      tr.final = true;
      if (rec.state === 'completed') this.tally.completed++;
      else if (rec.state === 'cancelled') this.tally.cancelled++;
      else this.tally.unfulfilled++;
      const i = tr.driver;
      if (i >= 0 && d.job[i] === rec.id) {
        d.job[i] = null;
        d.busyEnd(i, now, this.o.demandEndMs);
        if (rec.state !== 'completed') d.stop(i, now); // the rider cancelled: stay where the car is
        else d.phase[i] = Phase.idle;
      }
      this.tracks.delete(rec.id);
    }
  }

  private accepted(tr: JobTrack, rec: JobRecord, i: number, now: number): void {
    const d = this.o.drivers;
    if (i < 0) return;
    if (d.job[i] !== null && d.job[i] !== rec.id) this.tally.doubleJob++;
    d.job[i] = rec.id;
    tr.driver = i;
    d.busyStart(i, now);
    const lat = d.lat(i, now), lng = d.lng(i, now);
    const ms = 1000 * this.o.eta.seconds(lat, lng, rec.pickup.lat, rec.pickup.lng, now);
    d.moveTo(i, now, rec.pickup.lat, rec.pickup.lng, now + ms);
    d.phase[i] = Phase.toPickup;
    this.push(now + ms, Kind.atPickup, i, rec.id);
  }

  // ---- what riders and drivers do ----

  private async request(k: number): Promise<void> {
    const dm = this.o.demand;
    const now = this.clock.now();
    this.push(now + dm.patienceMs[k]!, Kind.patience, k, '');
    await this.node.jobs.create(`r${k}`, { lat: dm.pickLat[k]!, lng: dm.pickLng[k]! }, { lat: dm.dropLat[k]!, lng: dm.dropLng[k]! });
  }

  private async handle(ev: Ev): Promise<void> {
    const d = this.o.drivers;
    switch (ev.k) {
      case Kind.fixTick:
        return this.fixTick();
      case Kind.patience: {
        const id = this.jobOf[ev.i];
        const tr = id === undefined ? undefined : this.tracks.get(id);
        // Still waiting for a car (no driver yet, or one on the way): the rider gives up.
        if (id !== undefined && tr && (tr.driver < 0 || d.phase[tr.driver] === Phase.toPickup)) {
          await this.node.jobs.riderCancel(tr.rider, id).catch(ignoreRefusal);
        }
        return;
      }
      case Kind.answer: {
        if (d.offer[ev.i] !== ev.job) return; // revoked meanwhile
        d.offer[ev.i] = null;
        const no = this.rnd() < this.o.decline;
        if (no) this.tally.declines++;
        await this.act(ev.i, no ? 'decline' : 'accept', ev.job);
        return;
      }
    }
    if (ev.gen !== d.gen[ev.i] || d.job[ev.i] !== ev.job) return; // plan cancelled meanwhile
    const now = this.clock.now();
    const fleet = this.node.fleet;
    if (ev.k === Kind.atPickup) {
      fleet.update(d.ids[ev.i]!, d.lat(ev.i, now), d.lng(ev.i, now), now, NaN, NaN);
      d.phase[ev.i] = Phase.boarding;
      await this.act(ev.i, 'arrived', ev.job);
      this.push(now + BOARDING_MS, Kind.boarded, ev.i, ev.job);
    } else if (ev.k === Kind.boarded) {
      const dm = this.o.demand;
      const k = this.tracks.get(ev.job)?.k;
      if (k === undefined) return;
      const ms = 1000 * this.o.eta.seconds(d.lat(ev.i, now), d.lng(ev.i, now), dm.dropLat[k]!, dm.dropLng[k]!, now);
      d.moveTo(ev.i, now, dm.dropLat[k]!, dm.dropLng[k]!, now + ms);
      d.phase[ev.i] = Phase.toDropoff;
      await this.act(ev.i, 'start', ev.job);
      this.push(now + ms, Kind.atDropoff, ev.i, ev.job);
    } else if (ev.k === Kind.atDropoff) {
      fleet.update(d.ids[ev.i]!, d.lat(ev.i, now), d.lng(ev.i, now), now, NaN, NaN);
      await this.act(ev.i, 'complete', ev.job);
    }
  }

  /** Every driver reports where it is now; the fleet index is rebuilt (synchronously), as a node's rebuild timer would. */
  private fixTick(): void {
    const now = this.clock.now();
    const d = this.o.drivers;
    for (let i = 0; i < d.n; i++) this.node.fleet.update(d.ids[i]!, d.lat(i, now), d.lng(i, now), now, NaN, NaN);
    this.node.rebuild();
    this.push(now + FIX_PERIOD_MS, Kind.fixTick, -1, '');
  }

  /** A driver's action; a refusal (the job ended or moved on meanwhile) is what a real driver would also get. */
  private act(i: number, kind: DriverKind, job: string): Promise<unknown> {
    return this.node.jobs.driverAction(this.o.drivers.ids[i]!, kind, job).catch(ignoreRefusal);
  }

  private push(at: number, k: Kind, i: number, job: string): void {
    this.q.push(at, { k, i, job, gen: i >= 0 && k !== Kind.patience ? this.o.drivers.gen[i]! : 0 });
  }
}

function ignoreRefusal(e: unknown): undefined {
  if (e instanceof ProtocolError) return undefined;
  throw e;
}
