// Rate limits on riders' job requests (create, cancel): one token bucket per rider and one per client address.
import type { JobLimitSettings } from '../config/job-limit-settings.js';
import { KeyedBuckets } from '../util/keyed-buckets.js';
import { RetryLaterError } from './http-kit.js';

/** Most riders (and, separately, client addresses) whose buckets are held at once; bounds memory (~100 B each). */
export const MAX_LIMITED_KEYS = 100_000;

/** Why a job request was refused, as counted in `taxiway_job_requests_refused_total{reason}`. */
export type RefusalReason = 'rider_rate' | 'ip_rate' | 'open_jobs';

/**
 * Per-node limits: in a cluster each node keeps its own buckets, so a rider spreading requests over N
 * nodes gets up to N times the rate (the open-jobs cap, kept in the shared repository, still holds).
 * A refusal spends nothing from the other bucket.
 */
export class JobRequestLimits {
  private readonly riders: KeyedBuckets;
  private readonly ips: KeyedBuckets;

  constructor(s: JobLimitSettings, private readonly refused: (reason: RefusalReason) => void) {
    this.riders = new KeyedBuckets(s.perRider.ratePerS, s.perRider.burst, MAX_LIMITED_KEYS);
    this.ips = new KeyedBuckets(s.perIp.ratePerS, s.perIp.burst, MAX_LIMITED_KEYS);
  }

  /** Spend one request of `rider` from address `ip` at `now` (ms); RetryLaterError (429 rate_limited) when over. */
  check(rider: string, ip: string, now: number): void {
    const r = this.riders.take('r' + rider, now);
    if (r > 0) this.refuse('rider_rate', r, 'this rider');
    const i = this.ips.take(clientKey(ip), now);
    if (i > 0) this.refuse('ip_rate', i, 'this client address');
  }

  private refuse(reason: RefusalReason, waitMs: number, who: string): never {
    this.refused(reason);
    const s = Math.ceil(waitMs / 1000);
    throw new RetryLaterError(`too many job requests from ${who}: retry in ${s} s`, s);
  }
}

/**
 * The key of a client address (as uWS writes it): IPv4 as is, also when mapped into IPv6; IPv6 by its first four groups (a /64, what one host or
 * customer usually gets), so rotating addresses inside one's own /64 does not multiply the budget.
 */
export function clientKey(addr: string): string {
  const v4 = /(?:^|:)(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (v4) return v4[1]!;
  if (!addr.includes(':')) return addr;
  const g = expandV6(addr);
  if (!g) return addr;
  // IPv4-mapped (a dual-stack listener shows IPv4 peers as ::ffff:7f00:1): the IPv4 address itself.
  if (g.slice(0, 5).every((x) => x === '0') && g[5] === 'ffff') {
    const n = (parseInt(g[6]!, 16) << 16) | parseInt(g[7]!, 16);
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }
  return g.slice(0, 4).join(':') + '::/64';
}

/** The eight groups of an IPv6 address (`::` expanded, leading zeros dropped), or null if malformed. */
function expandV6(addr: string): string[] | null {
  const [head, tail, extra] = addr.toLowerCase().split('::');
  if (extra !== undefined) return null;
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  if (fill < 0 || h.length + t.length + fill !== 8) return null;
  return [...h, ...Array<string>(fill).fill('0'), ...t].map((g) => g.replace(/^0+(?=.)/, ''));
}
