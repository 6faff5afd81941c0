// Simulated drivers: one SDK DriverClient each (taxiway/client), cruising Monaco roads, answering offers and driving trips.
import { DriverClient } from '../client/driver-client.js';
import type { ClientError } from '../client/client-error.js';
import type { TokenProvider } from '../client/token-source.js';
import { haversineMetres } from '../fleet/geo.js';
import { CloseCodes } from '../protocol/errors.js';
import type { AckFrame, JobFrame, OfferFrame } from '../protocol/messages.js';
import type { Route } from './road-graph.js';
import { RouteWalker } from './road-walker.js';
import type { SimWorld } from './sim-world.js';

/** Chance that a driver accepts an offer. */
const ACCEPT_P = 0.85;
/** A driver answers an offer after this long, ms (a human tapping a button). */
const ANSWER_MS: [number, number] = [300, 2000];
/** Time for the rider to get in at the pickup, ms at speed 1. */
const BOARDING_MS = 3000;
/** How often every driver sends a fix, ms: one shared timer for the whole fleet. */
export const FIX_INTERVAL_MS = 1000;

type Phase = 'connecting' | 'cruising' | 'to_pickup' | 'boarding' | 'to_dropoff' | 'closed';

/** `arrived`: the server already knows the car is at the pickup (a trip resumed after a reconnect). */
interface Trip { job: string; pickup: number; dropoff: number; arrived?: boolean }

export class SimDriver {
  phase: Phase = 'connecting';
  private client: DriverClient | null = null;
  /** The phase the car was in when its socket dropped: resumed after the SDK reconnects. */
  private phaseBeforeClose: Phase = 'cruising';
  private walker: RouteWalker;
  private route: Route;
  private trip: Trip | null = null;
  private offer: { job: string; timer: NodeJS.Timeout } | null = null;
  private boarding: NodeJS.Timeout | null = null;

  constructor(readonly id: string, private readonly w: SimWorld) {
    const start = w.randomAreaNode();
    this.route = { nodes: Int32Array.of(start), metres: 0, seconds: 0 };
    this.walker = new RouteWalker(w.graph, this.route, w.settings.speed);
  }

  get lat(): number {
    return this.walker.lat;
  }

  get lng(): number {
    return this.walker.lng;
  }

  /**
   * The route node about `seconds` of free-flow driving ahead of the car (the route's end if it is
   * closer): a pickup there is one this car can reach quickly, whatever the one-way streets.
   */
  nodeAhead(seconds: number): number {
    const g = this.w.graph;
    const nodes = this.route.nodes;
    let i = Math.min(this.walker.segment + 1, nodes.length - 1);
    for (let left = seconds; i < nodes.length - 1 && left > 0; i++) left -= g.edgeSeconds(g.fastestEdge(nodes[i]!, nodes[i + 1]!));
    return nodes[i]!;
  }

  get online(): boolean {
    return this.phase !== 'connecting' && this.phase !== 'closed';
  }

  /** Connect through the SDK; resolves once the socket is open (the `hello` comes after, then the driver goes available). */
  connect(token: TokenProvider): Promise<void> {
    const c = new DriverClient({ url: this.w.settings.wsBase, token });
    this.client = c;
    c.on('offer', (f) => this.onOffer(f));
    c.on('offer_revoked', (f) => {
      if (this.offer?.job !== f.job) return;
      this.w.counters.revoked++;
      this.dropOffer();
    });
    c.on('job', (f) => this.onJob(f));
    c.on('err', (f) => this.error(`err ${f.code}: ${f.msg}`));
    c.on('fix_refused', (f) => this.error(`fix refused, ${f.code}: ${f.msg}`));
    c.on('error', (err) => this.error(`client: ${err.message}`));
    c.on('close', ({ code }) => {
      // Going away is the server shutting down; anything else while the sim runs is worth counting.
      if (!this.w.stopped && code !== CloseCodes.goingAway) this.error(`socket closed with ${code}`);
      if (this.phase !== 'closed' && this.phase !== 'connecting') this.phaseBeforeClose = this.phase;
      this.phase = 'closed';
      this.dropOffer();
    });
    c.on('hello', () => {
      if (this.phase === 'connecting') {
        this.phase = 'cruising';
        c.sendFix({ ts: Date.now(), lat: this.walker.lat, lng: this.walker.lng });
        void this.act(c.setStatus('available'));
        this.cruise();
        return;
      }
      // A reconnect: the SDK sends `status available` again (refused with `conflict` while we hold a job,
      // whose `job` frame follows the hello and resumes the trip: onJob).
      this.phase = this.trip ? this.phaseBeforeClose : 'cruising';
      if (!this.trip) this.cruise();
    });
    return new Promise((resolve, reject) => {
      c.once('open', () => resolve());
      c.connect().catch(reject);
    });
  }

  /** Close the socket (normal closure) and resolve when it is closed, or after `maxMs`. */
  close(maxMs = 1000): Promise<void> {
    this.dropOffer();
    this.w.cancel(this.boarding);
    const c = this.client;
    if (!c) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, maxMs);
      void c.close().then(() => { clearTimeout(t); resolve(); });
    });
  }

  /** One step of the shared fix timer: move `dtS` seconds along the route and report the fix. */
  tick(now: number, dtS: number): void {
    if (!this.online) return;
    if (this.phase !== 'boarding') this.walker.advance(dtS);
    this.client?.sendFix({ ts: now, lat: this.walker.lat, lng: this.walker.lng, hdg: this.walker.headingDeg, spd: this.walker.speedMps });
    this.w.counters.fixesSent++;
    if (this.walker.done) this.arrivedAtEnd();
  }

  private onOffer(f: OfferFrame): void {
    const job = f.job;
    this.w.counters.offers++;
    this.dropOffer();
    const timer = this.w.later(this.w.between(ANSWER_MS[0], ANSWER_MS[1]), () => {
      this.offer = null;
      if (this.phase !== 'cruising' || this.w.rand() >= ACCEPT_P) {
        this.w.counters.declined++;
        void this.act(this.client!.decline(job));
        return;
      }
      void this.act(this.client!.accept(job)).then((ok) => {
        if (!ok || this.phase !== 'cruising') return;
        this.w.counters.accepted++;
        const p = f.pickup;
        const d = f.dropoff ?? null;
        const pickup = this.w.graph.nearestNode(p.lat, p.lng);
        const dropoff = d ? this.w.graph.nearestNode(d.lat, d.lng) : this.w.randomAreaNode();
        this.trip = { job, pickup, dropoff };
        this.phase = 'to_pickup';
        this.driveTo(pickup);
      });
    });
    this.offer = { job, timer };
  }

  /** A job frame about our trip: the rider may have cancelled it. Without a trip: our active job after a reconnect, resumed. */
  private onJob(f: JobFrame): void {
    if (!this.trip) return this.resume(f);
    if (f.job !== this.trip.job) return;
    if (f.state === 'cancelled' || f.state === 'unfulfilled' || f.state === 'dispatching') {
      this.trip = null;
      this.w.cancel(this.boarding);
      this.boarding = null;
      if (this.phase !== 'closed') this.cruise();
    }
  }

  /** Pick up where the server says our job is (a real driver app does the same after a reconnect). */
  private resume(f: JobFrame): void {
    const p = f.pickup;
    if (f.driver?.id !== this.id || !p || !['accepted', 'arrived', 'in_progress'].includes(f.state)) return;
    const d = f.dropoff ?? null;
    const pickup = this.w.graph.nearestNode(p.lat, p.lng);
    const dropoff = d ? this.w.graph.nearestNode(d.lat, d.lng) : this.w.randomAreaNode();
    this.dropOffer();
    this.trip = { job: f.job, pickup, dropoff, arrived: f.state === 'arrived' };
    this.phase = f.state === 'in_progress' ? 'to_dropoff' : 'to_pickup';
    this.driveTo(f.state === 'in_progress' ? dropoff : pickup);
  }

  /** The walker reached the end of its route: what that means depends on the phase. */
  private arrivedAtEnd(): void {
    const trip = this.trip;
    if (this.phase === 'cruising') return this.cruise();
    if (!trip) return;
    if (this.phase === 'to_pickup') {
      this.phase = 'boarding';
      if (!trip.arrived) void this.act(this.client!.arrived(trip.job));
      this.boarding = this.w.later(BOARDING_MS / this.w.settings.speed, () => {
        this.boarding = null;
        if (this.trip !== trip) return;
        void this.act(this.client!.start(trip.job)).then((ok) => {
          if (!ok || this.trip !== trip) return;
          this.phase = 'to_dropoff';
          this.driveTo(trip.dropoff);
        });
      });
    } else if (this.phase === 'to_dropoff') {
      this.trip = null;
      void this.act(this.client!.complete(trip.job)).then((ok) => {
        if (ok) this.w.counters.tripsCompleted++;
      });
      this.cruise();
    }
  }

  /** Pick a random destination in the area and drive there. */
  private cruise(): void {
    this.phase = 'cruising';
    this.driveTo(this.w.randomAreaNode());
  }

  /**
   * Re-route from wherever the car is now. The new route begins with the edge being driven, and the
   * walker is moved along it to the current spot, so the next fix continues smoothly (a jump to the
   * next node could exceed the server's 250 km/h filter on long edges).
   */
  private driveTo(target: number): void {
    const nodes = this.route.nodes;
    const seg = this.walker.segment;
    const g = this.w.graph;
    if (this.walker.done || seg + 1 >= nodes.length) {
      const at = nodes[nodes.length - 1]!;
      this.setRoute(g.route(at, target) ?? { nodes: Int32Array.of(at), metres: 0, seconds: 0 }, 0);
      return;
    }
    const from = nodes[seg]!;
    const next = nodes[seg + 1]!;
    const rest = g.route(next, target);
    if (!rest) return;
    const joined = new Int32Array(rest.nodes.length + 1);
    joined[0] = from;
    joined.set(rest.nodes, 1);
    const done = haversineMetres(g.nodeLat(from), g.nodeLng(from), this.walker.lat, this.walker.lng);
    this.setRoute({ nodes: joined, metres: rest.metres, seconds: rest.seconds }, done);
  }

  private setRoute(route: Route, skipMetres: number): void {
    this.route = route;
    this.walker = new RouteWalker(this.w.graph, route, this.w.settings.speed);
    if (skipMetres > 0 && !this.walker.done) this.walker.advance(skipMetres / this.walker.segmentSpeedMps(0));
  }

  private dropOffer(): void {
    if (!this.offer) return;
    this.w.cancel(this.offer.timer);
    this.offer = null;
  }

  /** Await an action's reply: true for its ack; false for an err (counted as an error) or a lost reply. */
  private async act(reply: Promise<AckFrame>): Promise<boolean> {
    try {
      await reply;
      return true;
    } catch (err) {
      const e = err as ClientError;
      if (e.code !== 'disconnected' && e.code !== 'not_connected' && e.code !== 'stopped') this.error(`err ${e.code}: ${e.message}`);
      return false;
    }
  }

  private error(msg: string): void {
    if (this.w.stopped) return; // sockets and requests cut off by the shutdown are not errors
    this.w.counters.errors++;
    this.w.log.info({ driver: this.id, msg }, 'sim driver error');
  }
}

/** Every simulated driver, moved and reported by one shared interval timer. */
export class SimFleet {
  readonly drivers: SimDriver[] = [];
  private timer: NodeJS.Timeout | null = null;
  private last = Date.now();

  constructor(private readonly w: SimWorld) {}

  /** Connect `n` drivers (sub `sim-d<i>`), with tokens from `tokenFor`. */
  async connect(n: number, tokenFor: (sub: string) => Promise<string>): Promise<void> {
    for (let i = 0; i < n; i++) this.drivers.push(new SimDriver(`sim-d${i}`, this.w));
    await Promise.all(this.drivers.map((d) => d.connect(() => tokenFor(d.id))));
    this.last = Date.now();
    this.timer = setInterval(() => {
      const now = Date.now();
      // Real elapsed time, not the nominal 1 s: positions then match the fixes' timestamps exactly.
      const dt = (now - this.last) / 1000;
      this.last = now;
      for (const d of this.drivers) d.tick(now, dt);
    }, FIX_INTERVAL_MS);
  }

  online(): number {
    let n = 0;
    for (const d of this.drivers) if (d.online) n++;
    return n;
  }

  /** A random driver that is cruising (free), or undefined when none is. */
  randomCruising(): SimDriver | undefined {
    const free = this.drivers.filter((d) => d.phase === 'cruising');
    return free.length ? free[Math.floor(this.w.rand() * free.length)] : undefined;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all(this.drivers.map((d) => d.close()));
  }
}
