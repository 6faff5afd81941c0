// A stored GPS fix and the columnar batch of them (typed-array columns, no object per fix) that ingest hands to the history store.

/** One stored GPS fix. Times in ms since the epoch, coordinates in WGS84 degrees. */
export interface StoredFix {
  driver: string;
  /** Fix time, ms since the epoch (the client's `ts`). */
  ts: number;
  lat: number;
  lng: number;
  /** Heading in degrees [0,360), or NaN when the client sent none. */
  hdg: number;
  /** Speed in m/s, or NaN when the client sent none. */
  spd: number;
  /** Accuracy radius in metres, or NaN when the client sent none. */
  acc: number;
}

/**
 * Fixes in arrival order, one column per field: ts in ms, lat/lng in degrees, hdg in degrees, spd in
 * m/s, acc in metres (NaN when absent). `drivers[i]` is a reference to the driver's id string, so
 * pushing a fix allocates nothing once the columns have grown to the batch size. A batch may be
 * cleared and refilled after `HistoryStore.appendFixes` returns: adapters copy what they keep.
 */
export class FixBatch {
  length = 0;
  /** Driver ids; slots at and past `length` hold '' (kept at capacity: refilling never regrows it). */
  drivers: string[];
  /**
   * Optional small dense integer per driver (ingest's per-driver slot), the same for every fix of one
   * driver within a batch, or -1. Lets adapters group by driver with an array instead of a Map.
   */
  keys: Int32Array;
  ts: Float64Array;
  lat: Float64Array;
  lng: Float64Array;
  hdg: Float64Array;
  spd: Float64Array;
  acc: Float64Array;

  constructor(capacity = 1024) {
    const c = Math.max(16, capacity);
    this.drivers = new Array<string>(c).fill('');
    this.keys = new Int32Array(c);
    this.ts = new Float64Array(c);
    this.lat = new Float64Array(c);
    this.lng = new Float64Array(c);
    this.hdg = new Float64Array(c);
    this.spd = new Float64Array(c);
    this.acc = new Float64Array(c);
  }

  /** A batch holding copies of `fixes` (tests, cold paths). */
  static of(fixes: readonly StoredFix[]): FixBatch {
    const b = new FixBatch(fixes.length);
    for (const f of fixes) b.push(f.driver, -1, f.ts, f.lat, f.lng, f.hdg, f.spd, f.acc);
    return b;
  }

  /** Append a fix; `key` is the driver's dense key (see `keys`) or -1. */
  push(driver: string, key: number, ts: number, lat: number, lng: number, hdg: number, spd: number, acc: number): void {
    const i = this.length;
    if (i === this.ts.length) this.grow();
    this.drivers[i] = driver;
    this.keys[i] = key;
    this.ts[i] = ts;
    this.lat[i] = lat;
    this.lng[i] = lng;
    this.hdg[i] = hdg;
    this.spd[i] = spd;
    this.acc[i] = acc;
    this.length = i + 1;
  }

  /** Empties the batch, keeping its capacity (the id references are dropped so they can be collected). */
  clear(): void {
    // Not `drivers.length = 0`: that dropped the backing store, and every refill regrew it step by step
    // (5% of flat-out ingest's busy time in push at commit e43b763).
    this.drivers.fill('', 0, this.length);
    this.length = 0;
  }

  /** Fix i as an object (allocates: for adapters whose cost is elsewhere, and for tests). */
  at(i: number): StoredFix {
    return { driver: this.drivers[i]!, ts: this.ts[i]!, lat: this.lat[i]!, lng: this.lng[i]!, hdg: this.hdg[i]!, spd: this.spd[i]!, acc: this.acc[i]! };
  }

  toArray(): StoredFix[] {
    const out = new Array<StoredFix>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.at(i);
    return out;
  }

  /** Fix i has a driver id and finite ts / lat / lng. */
  isStorable(i: number): boolean {
    const d = this.drivers[i];
    return typeof d === 'string' && d.length > 0 && Number.isFinite(this.ts[i]) && Number.isFinite(this.lat[i]) && Number.isFinite(this.lng[i]);
  }

  private grow(): void {
    const c = this.ts.length * 2;
    const g = (a: Float64Array): Float64Array => {
      const n = new Float64Array(c);
      n.set(a);
      return n;
    };
    const d = new Array<string>(c).fill('');
    for (let i = 0; i < this.length; i++) d[i] = this.drivers[i]!;
    this.drivers = d;
    const k = new Int32Array(c);
    k.set(this.keys);
    this.keys = k;
    this.ts = g(this.ts);
    this.lat = g(this.lat);
    this.lng = g(this.lng);
    this.hdg = g(this.hdg);
    this.spd = g(this.spd);
    this.acc = g(this.acc);
  }
}

/** What `appendFixes` takes: an array of fixes (convenient) or a FixBatch (the hot path). */
export type FixInput = readonly StoredFix[] | FixBatch;

/** The input as an array (copies a batch; returns an array as is). */
export function fixArray(input: FixInput): readonly StoredFix[] {
  return input instanceof FixBatch ? input.toArray() : input;
}

/** The input as a batch (copies an array; returns a batch as is). */
export function fixBatch(input: FixInput): FixBatch {
  return input instanceof FixBatch ? input : FixBatch.of(input);
}
