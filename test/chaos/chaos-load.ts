// Chaos load: a steady fleet of fix-streaming drivers, bot drivers that accept and complete offers, and a stream
// of rider jobs; every socket reconnects to a live node after a failure; records what each node acknowledged.
import { isFinalState } from '../../src/protocol/job-record.js';
import type { Cluster, Node } from '../helpers/cluster.js';
import { Client, http, sleep } from '../helpers/server.js';
import type { Frame } from '../helpers/server.js';
import { BotClaims } from './chaos-claims.js';
import type { AcceptedBy, Double } from './chaos-claims.js';

/** A fix a node acknowledged: who, its ts, which node, when (ms). */
export interface AckedFix {
  driver: string;
  ts: number;
  node: string;
  at: number;
}

export interface CreatedJob {
  id: string;
  rt: string;
  at: number;
}

/** Porto (the replayed city's area): drivers on a small grid around the centre, degrees. */
const LAT0 = 41.15;
const LNG0 = -8.61;

export class ChaosLoad {
  readonly fixes: AckedFix[] = [];
  readonly jobs: CreatedJob[] = [];
  refused = 0;
  /** Double assignments the server confirmed (see `BotClaims`). */
  readonly doubles: Double[] = [];
  /** The job records last read by `states()`. */
  readonly records = new Map<string, Record<string, unknown>>();
  /** Bot steps that did not get an ack: which, the answer, when (ms). */
  readonly refusedSteps: Array<{ bot: string; job: string; step: string; answer: string; at: number }> = [];
  /** The bot each job was confirmed to, and when (ms). */
  private readonly acceptedBy: AcceptedBy = new Map();
  private running = true;
  private creating = true;
  private readonly sockets = new Set<Client>();
  private readonly loops: Array<Promise<void>> = [];
  /** Distinct reasons a driver session ended with an error (connection refusals and timeouts left out). */
  readonly sessionErrors = new Set<string>();
  /** Open sockets past `hello`, with their node. */
  private readonly opened = new Map<Client, Node>();

  /** Sockets past `hello` that are still open, on a node that is still alive (a killed node's count at once). */
  get connected(): number {
    const live = new Set(this.live());
    let n = 0;
    for (const [c, node] of this.opened) if (c.closeCode === null && live.has(node)) n++;
    return n;
  }

  constructor(private readonly c: Cluster, private readonly live: () => Node[]) {}

  /** A live node, round robin from `i`. */
  private node(i: number): Node {
    const l = this.live();
    return l[i % l.length]!;
  }

  /** Keeps one socket for `id` open (reconnecting to the next live node), running `session` on each. */
  private keep(id: string, role: 'driver', i: number, session: (d: Client, node: Node) => Promise<void>): void {
    this.loops.push((async () => {
      let k = i;
      while (this.running) {
        const node = this.node(k++);
        let d: Client | undefined;
        try {
          d = await Client.open(`${node.wsUrl}/v1/${role}/ws`, await this.c.token(role, id), false, false);
          this.sockets.add(d);
          await d.waitFor((f) => f.t === 'hello', 5000);
          this.opened.set(d, node);
          try {
            await session(d, node);
          } finally {
            this.opened.delete(d);
          }
        } catch (e) {
          // Node gone or Redis between primaries: try the next node. The first few distinct reasons are kept for the report.
          const why = String((e as Error).message ?? e).slice(0, 300);
          if (this.sessionErrors.size < 5 && !/ECONNREFUSED|timed out|socket hang up/.test(why)) this.sessionErrors.add(why);
        } finally {
          if (d) {
            this.sockets.delete(d);
            d.close();
          }
        }
        if (this.running) await sleep(300 + Math.random() * 400);
      }
    })());
  }

  /** `n` drivers streaming one fix a second (offline: never dispatch candidates), starting spread over 1 s. */
  fleet(n: number): void {
    for (let i = 0; i < n; i++) {
      const id = `chaos-f${i}`;
      const lat = LAT0 + (i % 20) * 0.002;
      const lng = LNG0 + Math.floor(i / 20) * 0.002;
      this.keep(id, 'driver', i, async (d, node) => {
        await sleep(Math.random() * 1000);
        while (this.running && d.closeCode === null) {
          const ts = Math.floor(Date.now() / 1000) * 1000; // one fix per whole second: a resend is a duplicate
          const r = await d.request({ t: 'loc', lat: lat + (ts % 60_000) * 1e-8, lng, ts }, 5000).catch(() => null);
          if (r === null) return; // no answer: the node is gone, reconnect
          if (r.t === 'ack') this.fixes.push({ driver: id, ts, node: node.name, at: Date.now() });
          await sleep(1000 - (Date.now() % 1000) + 5);
        }
      });
    }
  }

  /**
   * `n` available drivers that accept every offer and drive the trip at once, and resume a job given back after a
   * reconnect. Double assignments are what the server confirmed (`BotClaims`), never what a bot only tried.
   */
  bots(n: number): void {
    for (let i = 0; i < n; i++) {
      const id = `chaos-b${i}`;
      const lat = LAT0 + (i % 10) * 0.001;
      const lng = LNG0 + Math.floor(i / 10) * 0.001;
      this.keep(id, 'driver', i, async (d) => {
        const claims = new BotClaims(id, this.acceptedBy, this.doubles);
        /** Jobs whose accept is in flight: their own `job` frame is the accept's, not a job given back. */
        const accepting = new Set<string>();
        /** The job a drive loop runs for. */
        let driving: string | null = null;
        const step = async (job: string, t: string): Promise<boolean> => {
          let answer = 'socket closed';
          let code = '';
          // Like a driver app: retry a refused or unanswered step (Redis between primaries takes up to ~30 s at load 30)
          // until it is acknowledged, refused for good (conflict, not_found), or the socket closes (the node the bot
          // reconnects to gives the job back after `hello`). A step already done is acknowledged again by the server.
          for (const end = Date.now() + 120_000; d.closeCode === null && this.running && Date.now() < end;) {
            const r = await d.request({ t, job }, 8000).catch(() => null);
            if (r?.t === 'ack') return true;
            code = r ? String(r.code) : '';
            answer = r ? `${code}: ${String(r.msg ?? r.message ?? '')}` : 'no answer in 8 s';
            if (code === 'conflict' || code === 'not_found') break;
            await sleep(500);
          }
          this.refusedSteps.push({ bot: id, job, step: t, answer, at: Date.now() });
          claims.refused(job, code); // not_found: the job is not (or no longer) this bot's, e.g. an accept a failover lost
          return false;
        };
        const drive = async (job: string, from: string): Promise<void> => {
          if (driving === job) return;
          driving = job;
          const rest = ['arrived', 'start', 'complete'];
          for (const s of rest.slice(from === 'arrived' ? 1 : from === 'in_progress' ? 2 : 0)) if (!(await step(job, s))) break;
          if (driving === job) driving = null;
        };
        // A driver socket receives `job` frames of its own job only (its `driver` field is a position, maybe absent),
        // in the order the server sent them (the frame an action causes comes before its ack).
        const onFrame = (f: Frame): void => {
          const job = String(f.job);
          if (f.t === 'job') {
            claims.jobFrame(job, String(f.state), Date.now());
            if (claims.active?.job === job && !accepting.has(job)) void drive(job, String(f.state)); // given back after a reconnect
          } else if (f.t === 'offer') {
            claims.offered(job, Number(f.expires_ts), Date.now());
            setTimeout(async () => {
              if (!claims.holds(job)) return; // revoked meanwhile
              accepting.add(job);
              const ok = await step(job, 'accept');
              claims.offerEnded(job);
              accepting.delete(job);
              if (!ok) return;
              claims.mine(job, Date.now()); // its `job` frame said so already, unless that frame was lost with a connection
              await drive(job, 'accepted');
            }, 50 + Math.random() * 100);
          } else if (f.t === 'offer_revoked') claims.offerEnded(job);
        };
        // The job given back right after `hello` may have arrived before this session's listener.
        for (const f of d.frames) onFrame(f);
        d.ws.on('message', () => onFrame(d.frames.at(-1) as Frame));
        await d.request({ t: 'loc', lat, lng, ts: Date.now() });
        await d.request({ t: 'status', s: 'available' });
        while (this.running && d.closeCode === null) {
          await sleep(2000);
          await d.request({ t: 'loc', lat, lng, ts: Date.now() }, 5000).catch(() => null);
        }
      });
    }
  }

  /** A job every `everyMs` from a new rider on a live node, near the bots. */
  jobStream(everyMs: number): void {
    this.loops.push((async () => {
      for (let i = 0; this.running && this.creating; i++) {
        const rt = await this.c.token('rider', `chaos-r${i}`);
        const node = this.node(i);
        void http('POST', `${node.url}/v1/jobs`, rt, { pickup: { lat: LAT0 + (i % 10) * 0.001, lng: LNG0 + 0.0005 } })
          .then((res) => (res.status === 201 ? this.jobs.push({ id: res.body.id as string, rt, at: Date.now() }) : this.refused++))
          .catch(() => this.refused++);
        await sleep(everyMs);
      }
    })());
  }

  /** Stops creating jobs (the drivers go on). */
  stopJobs(): void {
    this.creating = false;
  }

  /** Stops creating jobs and closes every socket. */
  async stop(): Promise<void> {
    this.running = false;
    for (const s of this.sockets) s.close();
    await Promise.race([Promise.all(this.loops), sleep(15_000)]);
  }

  /** Each created job's state, asked of a live node ('?' when no node answered). */
  async states(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    this.records.clear();
    let i = 0;
    for (const j of this.jobs) {
      const r = await Promise.race([http('GET', `${this.node(i++).url}/v1/jobs/${j.id}`, j.rt), sleep(5000).then(() => ({ status: 0, body: {} }))])
        .catch(() => ({ status: 0, body: {} }));
      out.set(j.id, r.status === 200 ? String(r.body.state) : '?');
      if (r.status === 200) this.records.set(j.id, r.body);
    }
    return out;
  }

  /** Waits until every created job is final (or `ms` passed); returns the states. */
  async settle(ms: number): Promise<Map<string, string>> {
    const end = Date.now() + ms;
    for (;;) {
      const s = await this.states();
      if ([...s.values()].every(isFinalState) || Date.now() > end) return s;
      await sleep(1000);
    }
  }
}
