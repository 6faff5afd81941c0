// Local weekday and hour of an instant in one IANA time zone, cached so the hot path neither allocates nor calls Intl.

const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;
/** Offsets change only at zone transitions, which happen on quarter hours: one cached offset per UTC quarter hour. */
const CACHE_SPAN_MS = 900_000;

export class LocalClock {
  /** ISO weekday of the last `set()`, 1 = Monday ... 7 = Sunday. */
  weekday = 1;
  /** Hour of the day of the last `set()`, 0-23. */
  hour = 0;
  private readonly fmt: Intl.DateTimeFormat;
  private cacheKey = NaN;
  private offsetMs = 0;

  constructor(readonly timeZone: string) {
    // Throws RangeError on an unknown zone: callers validate config with it.
    this.fmt = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
  }

  /** Set `weekday` and `hour` for `atMs` (ms since the epoch). */
  set(atMs: number): void {
    const key = Math.floor(atMs / CACHE_SPAN_MS);
    if (key !== this.cacheKey) {
      this.offsetMs = this.offsetAt(key * CACHE_SPAN_MS);
      this.cacheKey = key;
    }
    const local = atMs + this.offsetMs;
    const days = Math.floor(local / MS_PER_DAY);
    // 1970-01-01 was a Thursday (ISO 4).
    this.weekday = ((((days + 3) % 7) + 7) % 7) + 1;
    this.hour = Math.floor((local - days * MS_PER_DAY) / MS_PER_HOUR);
  }

  /** UTC offset of the zone at `ms`, milliseconds (local = utc + offset). */
  private offsetAt(ms: number): number {
    const p: Record<string, number> = {};
    for (const part of this.fmt.formatToParts(ms)) if (part.type !== 'literal') p[part.type] = Number(part.value);
    const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
    return asUtc - Math.floor(ms / 1000) * 1000;
  }
}
