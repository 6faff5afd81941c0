// Per-client-IP limits on WebSocket upgrades (per second) and open sockets, checked at upgrade.
import type { WsLimits } from '../config/ws-limits.js';

export type { WsLimits };

/** Why an upgrade was refused, or null when it may proceed. */
export type IpRefusal = 'upgrade_rate' | 'sockets_per_ip' | null;

/**
 * Counts per client IP. Memory is bounded by what it counts: the window map holds the IPs seen in the
 * current second (cleared when the second changes), the open map only IPs with an open socket.
 */
export class IpLimiter {
  private readonly openByIp = new Map<string, number>();
  private window = -1;
  private readonly upgradesByIp = new Map<string, number>();

  constructor(private readonly limits: Pick<WsLimits, 'maxSocketsPerIp' | 'upgradesPerSecPerIp'>) {}

  /** Count one upgrade attempt from `ip` at `nowMs`; says whether it must be refused. */
  admit(ip: string, nowMs: number): IpRefusal {
    const perSec = this.limits.upgradesPerSecPerIp;
    if (perSec > 0) {
      const w = Math.floor(nowMs / 1000);
      if (w !== this.window) {
        this.window = w;
        this.upgradesByIp.clear();
      }
      const n = (this.upgradesByIp.get(ip) ?? 0) + 1;
      this.upgradesByIp.set(ip, n);
      if (n > perSec) return 'upgrade_rate';
    }
    const maxOpen = this.limits.maxSocketsPerIp;
    if (maxOpen > 0 && (this.openByIp.get(ip) ?? 0) >= maxOpen) return 'sockets_per_ip';
    return null;
  }

  /** Seconds a refused client should wait before trying again (the `Retry-After` header). */
  retryAfterS(reason: Exclude<IpRefusal, null>): number {
    // A full window frees at the next second; a socket slot frees when one of the client's sockets closes.
    return reason === 'upgrade_rate' ? 1 : 5;
  }

  opened(ip: string): void {
    this.openByIp.set(ip, (this.openByIp.get(ip) ?? 0) + 1);
  }

  closed(ip: string): void {
    const n = (this.openByIp.get(ip) ?? 0) - 1;
    if (n > 0) this.openByIp.set(ip, n);
    else this.openByIp.delete(ip);
  }

  /** Open sockets of `ip` (tests, metrics). */
  openOf(ip: string): number {
    return this.openByIp.get(ip) ?? 0;
  }
}
