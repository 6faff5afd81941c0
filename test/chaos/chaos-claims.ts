// Chaos: what a bot was told is its own (offers, jobs), and the double assignments the server confirmed; and the rule
// that judges a double against the documented Redis failover guarantee.

/** A double assignment: what, when (ms), and when its earlier claim was confirmed (ms). */
export interface Double {
  what: string;
  at: number;
  first: number;
}

/** The bot each job was confirmed to, and when (ms): shared by every bot of a run. */
export type AcceptedBy = Map<string, { bot: string; at: number }>;

const ASSIGNED = new Set(['accepted', 'arrived', 'in_progress']);

/**
 * One bot session's view, fed the frames its socket received in order and its answers. It counts what the server
 * confirmed, never what the bot only tried:
 * - a job two bots were each told is theirs (its `job` frame in an assigned state, or the accept's ack);
 * - a bot told of a second job while the server still gave it another (no final frame, no refusal between);
 * - an offer while another offer the bot holds is still open: not past `expires_ts`, not revoked, not answered
 *   (an offer whose accept is in flight past its expiry may have ended on the server: not counted);
 * - an offer while the server gives the bot a job.
 */
export class BotClaims {
  /** Offers not seen to end (revoked, or the accept answered): job → its expiry and when it came (ms). */
  private readonly open = new Map<string, { expires: number; at: number }>();
  /** The job the server says is this bot's, and since when (ms). */
  active: { job: string; at: number } | null = null;

  constructor(private readonly bot: string, private readonly acceptedBy: AcceptedBy, private readonly doubles: Double[]) {}

  /** An `offer` frame of `job` expiring at `expires` (ms). */
  offered(job: string, expires: number, now: number): void {
    for (const [j, o] of this.open) {
      if (j !== job && o.expires > now) this.doubles.push({ what: `${this.bot} offered ${job} while holding ${j} (open until ${new Date(o.expires).toISOString()})`, at: now, first: o.at });
    }
    if (this.active && this.active.job !== job) this.doubles.push({ what: `${this.bot} offered ${job} while the server gives it ${this.active.job}`, at: now, first: this.active.at });
    this.open.set(job, { expires, at: now });
  }

  /** The offer is still open (not revoked, not answered). */
  holds(job: string): boolean {
    return this.open.has(job);
  }

  /** `offer_revoked`, or the accept's answer came: the offer ended. */
  offerEnded(job: string): void {
    this.open.delete(job);
  }

  /** A `job` frame of this bot's job in `state` (a driver socket gets frames of its own jobs only). */
  jobFrame(job: string, state: string, now: number): void {
    if (ASSIGNED.has(state)) this.mine(job, now);
    else if (this.active?.job === job) this.active = null; // final, or back to dispatching
  }

  /** The server says `job` is this bot's (a `job` frame in an assigned state, or the accept's ack). */
  mine(job: string, now: number): void {
    if (this.active && this.active.job !== job) this.doubles.push({ what: `${this.bot} given ${job} while the server still gave it ${this.active.job}`, at: now, first: this.active.at });
    if (this.active?.job !== job) this.active = { job, at: now };
    const other = this.acceptedBy.get(job);
    if (other && other.bot !== this.bot) this.doubles.push({ what: `${job} accepted by ${other.bot} and ${this.bot}`, at: now, first: other.at });
    if (!other || other.bot !== this.bot) this.acceptedBy.set(job, { bot: this.bot, at: now });
  }

  /** A step on `job` was refused: `not_found` means the server says the job is not (or no longer) this bot's. */
  refused(job: string, code: string): void {
    if (this.active?.job === job && code === 'not_found') this.active = null;
  }
}

/** The primary's SIGKILL, the promotion of the replica, and the job writes unreplicated in the 5 s before the kill. */
export interface Failover {
  at: number;
  promoted: number;
  unreplicatedBefore: number;
}

/**
 * Within the documented Redis guarantee (docs/reliability.md) a double is a lost write's: its earlier claim was
 * confirmed on the old primary in the 5 s before its kill (or answered between the kill and the promotion) while
 * job writes stood unreplicated, and the later claim came after the kill, whenever (a lost accept's offer can
 * outlive its claim until the watchdog ends it, 30 s past its expiry).
 */
export function doubleAllowed(d: Double, f: Failover | null): boolean {
  return f !== null && f.unreplicatedBefore > 0 && d.first >= f.at - 5000 && d.first <= f.promoted && d.at >= f.at;
}

/** A job record as read at the end: its final driver and its state times (ms). */
export interface HeldJob {
  job: string;
  driver: unknown;
  times: Record<string, number> | undefined;
}

/** Drivers the server's own records show holding two jobs at once (from `accepted` to its final state). */
export function overlappingJobs(records: readonly HeldJob[]): Array<{ driver: string; a: string; b: string; from: number }> {
  const held = new Map<string, Array<{ job: string; from: number; to: number }>>();
  for (const r of records) {
    const t = r.times ?? {};
    if (typeof r.driver !== 'string' || t.accepted === undefined) continue;
    const to = Math.min(...['completed', 'cancelled', 'unfulfilled'].map((k) => t[k] ?? Infinity));
    held.set(r.driver, [...(held.get(r.driver) ?? []), { job: r.job, from: Number(t.accepted), to }]);
  }
  const out: Array<{ driver: string; a: string; b: string; from: number }> = [];
  for (const [driver, js] of held) {
    js.sort((x, y) => x.from - y.from);
    for (let k = 1; k < js.length; k++) if (js[k]!.from < js[k - 1]!.to) out.push({ driver, a: js[k - 1]!.job, b: js[k]!.job, from: js[k]!.from });
  }
  return out;
}
