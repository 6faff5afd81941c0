// Simulated riders: Poisson arrivals that request a job and follow it with the SDK's RiderClient (taxiway/client).
import type { ClientError } from '../client/client-error.js';
import { RiderClient } from '../client/rider-client.js';
import { isFinalState } from '../protocol/job-record.js';
import { ClientCloseCodes, CloseCodes } from '../protocol/errors.js';
import type { SimFleet } from './sim-driver.js';
import type { SimWorld } from './sim-world.js';

/** Share of riders who cancel their job after a few seconds. */
const CANCEL_P = 0.05;
/** A cancelling rider waits this long first, ms. */
const CANCEL_AFTER_MS: [number, number] = [2000, 8000];
/** Share of riders who appear just ahead of a free car (demand near supply); the rest anywhere in the area. */
const NEAR_CAR_P = 0.7;
/** "Just ahead": this share of the longest trip time (tripS) down the car's route. */
const AHEAD_SHARE: [number, number] = [0.1, 0.33];
/**
 * The first riders of a run arrive within the first seconds and ask for short hops starting just
 * ahead of a free car (a taxi rank, or a hail from the kerb): a newcomer watching the demo sees a
 * whole trip — offer, pickup, ride, completion — within about 45 s instead of waiting for the
 * Poisson arrivals and full-length rides of steady state.
 */
const WARMUP_RIDERS = 3;
/** When the warm-up riders arrive, ms after start (wall clock: drivers need a second to report). */
const WARMUP_ARRIVAL_MS: [number, number] = [1000, 3000];
/** Warm-up pickups: this many seconds of free-flow driving ahead of a free car. */
const WARMUP_AHEAD_S: [number, number] = [2, 5];
/**
 * Warm-up rides: this many seconds of free-flow driving (a few hundred metres in Monaco), short enough
 * that the first trip ends well within 45 s even when a loaded machine makes the timers late.
 */
const WARMUP_RIDE_S: [number, number] = [8, 15];
/** Dropoff candidates tried before settling for the shortest trip found. */
const DROPOFF_TRIES = 12;

type LatLng = { lat: number; lng: number };

export class SimRiders {
  private n = 0;
  private spawnTimer: NodeJS.Timeout | null = null;
  private readonly riders = new Set<RiderClient>();

  constructor(private readonly w: SimWorld, private readonly fleet: SimFleet, private readonly tokenFor: (sub: string) => Promise<string>) {}

  /** Start the warm-up riders, then Poisson arrivals at `ridersPerMin` (exponential gaps between riders). */
  start(): void {
    const perMin = this.w.settings.ridersPerMin;
    if (perMin <= 0) return;
    for (let i = 0; i < WARMUP_RIDERS; i++) {
      this.w.later(this.w.between(WARMUP_ARRIVAL_MS[0], WARMUP_ARRIVAL_MS[1]), () => {
        this.spawn(true).catch((err) => this.error(`rider failed: ${(err as Error).message}`));
      });
    }
    const next = (): void => {
      const gapMs = (-Math.log(1 - this.w.rand()) * 60_000) / perMin;
      this.spawnTimer = this.w.later(gapMs, () => {
        this.spawn().catch((err) => this.error(`rider failed: ${(err as Error).message}`));
        next();
      });
    };
    next();
  }

  /** Stop arrivals and close every rider socket (resolves when closed, or after `maxMs`). */
  async stop(maxMs = 1000): Promise<void> {
    this.w.cancel(this.spawnTimer);
    await Promise.all([...this.riders].map((r) => new Promise<void>((resolve) => {
      const t = setTimeout(resolve, maxMs);
      void r.close().then(() => { clearTimeout(t); resolve(); });
    })));
  }

  /** One rider (`warmUp`: a short hop near a free car): pick a trip, create the job, follow it until it is final. */
  private async spawn(warmUp = false): Promise<void> {
    const sub = `sim-r${this.n++}`;
    this.w.counters.ridersSpawned++;
    const { pickup, dropoff } = warmUp ? this.pickWarmUpTrip() : this.pickTrip();
    const rider = new RiderClient({ url: this.w.settings.wsBase, httpUrl: this.w.settings.httpBase, token: () => this.tokenFor(sub) });
    let body;
    try {
      body = await rider.createJob({ pickup, dropoff });
    } catch (err) {
      const e = err as ClientError;
      return this.error(`POST /v1/jobs ${e.status ?? ''}: ${e.message}`);
    }
    const job = body.id;
    this.w.jobState(job, body.state, true);
    if (isFinalState(body.state) || this.w.stopped) return;
    // Warm-up riders never cancel: they are there to show a whole trip early.
    if (!warmUp && this.w.rand() < CANCEL_P) this.w.later(this.w.between(CANCEL_AFTER_MS[0], CANCEL_AFTER_MS[1]), () => void this.cancel(job, rider));
    this.follow(job, rider);
  }

  /** Follow the job on the rider's socket (the SDK re-follows it after a reconnect), and close it once the job is final. */
  private follow(job: string, rider: RiderClient): void {
    this.riders.add(rider);
    rider.on('err', (f) => this.error(`rider err ${f.code}: ${f.msg}`));
    rider.on('error', (err) => this.error(`rider: ${err.message}`));
    rider.on('pos', () => this.w.counters.posFrames++);
    rider.on('job', (f) => {
      if (f.job !== job) return;
      this.w.jobState(job, f.state);
      if (isFinalState(f.state)) void rider.close();
    });
    rider.on('close', ({ code }) => {
      if (code !== ClientCloseCodes.normal && code !== ClientCloseCodes.noStatus && code !== CloseCodes.goingAway) this.error(`rider socket closed with ${code}`);
    });
    rider.on('stopped', () => this.riders.delete(rider));
    rider.follow(job).catch((err: ClientError) => this.error(`rider sub: ${err.code} ${err.message}`));
  }

  /** Cancel while the job is still dispatching or accepted; a 409 just means the driver was quicker. */
  private async cancel(job: string, rider: RiderClient): Promise<void> {
    const state = this.w.jobStates.get(job);
    if (state !== 'dispatching' && state !== 'accepted') return;
    this.w.counters.riderCancels++;
    try {
      await rider.cancelJob(job);
    } catch (err) {
      const e = err as ClientError;
      if (e.status !== 409) this.error(`cancel: ${e.status ?? ''} ${e.message}`);
    }
  }

  /**
   * Pickup and dropoff on road nodes (snapped, so cars can route there). The dropoff is a node whose
   * free-flow route from the pickup takes at most `tripS` seconds, so rides stay Monaco-sized.
   */
  private pickTrip(): { pickup: LatLng; dropoff: LatLng } {
    const tripS = this.w.settings.tripS;
    const car = this.w.rand() < NEAR_CAR_P ? this.fleet.randomCruising() : undefined;
    const p = car ? car.nodeAhead(tripS * this.w.between(AHEAD_SHARE[0], AHEAD_SHARE[1])) : this.w.randomAreaNode();
    return this.tripFrom(p, tripS / 5, tripS);
  }

  /** A warm-up hop: pickup a few seconds ahead of a free car, a short ride (never longer than `tripS`). */
  private pickWarmUpTrip(): { pickup: LatLng; dropoff: LatLng } {
    const car = this.fleet.randomCruising();
    const p = car ? car.nodeAhead(this.w.between(WARMUP_AHEAD_S[0], WARMUP_AHEAD_S[1])) : this.w.randomAreaNode();
    const maxS = Math.min(WARMUP_RIDE_S[1], this.w.settings.tripS);
    return this.tripFrom(p, Math.min(WARMUP_RIDE_S[0], maxS / 2), maxS);
  }

  /** From road node `p` to a node whose free-flow route takes `minS`..`maxS` seconds (else the shortest found). */
  private tripFrom(p: number, minS: number, maxS: number): { pickup: LatLng; dropoff: LatLng } {
    const g = this.w.graph;
    let best = -1;
    let bestS = Infinity;
    for (let i = 0; i < DROPOFF_TRIES; i++) {
      // Straight-line reach of about 6 m/s keeps most candidates under maxS by road.
      const d = this.w.nodeNear(g.nodeLat(p), g.nodeLng(p), maxS * 6);
      if (d === p) continue;
      const r = g.route(p, d);
      if (!r) continue;
      if (r.seconds <= maxS && r.seconds >= minS) { best = d; break; }
      if (r.seconds < bestS) { bestS = r.seconds; best = d; }
    }
    if (best < 0) best = this.w.randomAreaNode();
    return { pickup: { lat: g.nodeLat(p), lng: g.nodeLng(p) }, dropoff: { lat: g.nodeLat(best), lng: g.nodeLng(best) } };
  }

  private error(msg: string): void {
    if (this.w.stopped) return; // sockets and requests cut off by the shutdown are not errors
    this.w.counters.errors++;
    this.w.log.info({ msg }, 'sim rider error');
  }
}
