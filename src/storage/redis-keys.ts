// The one home of every Redis key and channel name: all of one city's share the hash tag {<city>}, so a city is one Redis Cluster slot.
import { cityOfJobId } from '../protocol/job-id.js';

/**
 * Redis Cluster hashes only the part of a key between its first `{` and the next `}` (the hash tag) when
 * there is one, so keys with the same tag live in the same slot, on the same primary, and one Lua script
 * or MULTI may touch them together. The rule of taxiway:
 * - Every key and channel of one city carries the tag `{<city>}`: its jobs (`job:<id>` hashes; a job id
 *   names its city, `protocol/job-id.ts`), held and finished sets, creation counter, riders' open-job
 *   sets, driver claims (`drv:offer:<driver>`, `drv:active:<driver>`), fleet GEO set, position hash and
 *   last-seen set, mirror channel, airport zone queues, dispatch lease and ETA state. A job's create and commit script therefore
 *   runs on the city's primary, and a city's whole dispatch and fix traffic stays on one shard.
 * - Cross-city things that several keys must change together carry a fixed tag: `{catalog}` (version,
 *   entries, history: one compare-and-set script) and `{timers}` (the one BullMQ queue of every timer).
 * - Single keys looked up by something else than a city have no tag and spread over all slots: the
 *   driver → claim-city pointer `drv:city:<driver>` and the ETA writer lease.
 * - Global channels (`deliver`, `catalog`, `eta-trips`) have no tag: each hashes to one slot of its own.
 * The prefix (TAXIWAY_REDIS_PREFIX) holds no brace (checked at load), so the tags here are the only ones.
 * Single Redis and Sentinel ignore tags: the same names, and the same code, run on all three.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** A job's hash {v, doc}. Ids made before 2026-12-05 (`j_<uuid>`, no city) keep their untagged key. */
  job(id: string): string {
    const city = cityOfJobId(id);
    return city === null ? `${this.prefix}job:${id}` : `${this.prefix}${cityTag(city)}job:${id}`;
  }

  /** Sorted set of a city's held jobs (live, and final ones still retained), by creation order. */
  held(city: string): string {
    return `${this.prefix}${cityTag(city)}jobs:held`;
  }

  /** Sorted set of a city's final jobs by end time (ms), for their retention. */
  done(city: string): string {
    return `${this.prefix}${cityTag(city)}jobs:done`;
  }

  /** Untagged set of every city that has held jobs (what a list of every city walks). */
  jobCities(): string {
    return `${this.prefix}jobs:cities`;
  }

  /** A city's job creation counter (the list order's tie-break). */
  seq(city: string): string {
    return `${this.prefix}${cityTag(city)}jobs:seq`;
  }

  /** Set of a rider's live job ids in `city` (the open-jobs cap counts per city). */
  riderOpen(city: string, rider: string): string {
    return `${this.prefix}${cityTag(city)}rider:open:${rider}`;
  }

  /** The job id a driver holds an offer of, in the job's city (expires by itself). */
  driverOffer(city: string, driver: string): string {
    return `${this.prefix}${cityTag(city)}drv:offer:${driver}`;
  }

  /** The job id of a driver's active job, in the job's city. */
  driverActive(city: string, driver: string): string {
    return `${this.prefix}${cityTag(city)}drv:active:${driver}`;
  }

  /** An airport zone queue's keys: order zset (driver → join sequence), sequence counter, joined-at hash. */
  zoneQueue(city: string, zone: string): [order: string, seq: string, joined: string] {
    const base = `${this.prefix}${cityTag(city)}zq:${zone}`;
    return [base, `${base}:seq`, `${base}:at`];
  }

  /** Untagged pointer: the city of the driver's newest offer claim, where `offerOf`/`activeOf` look. */
  driverCity(driver: string): string {
    return `${this.prefix}drv:city:${driver}`;
  }

  /** A city's fleet mirror: GEO set, position hash (id → fields) and last-seen sorted set. */
  fleet(kind: 'geo' | 'pos' | 'seen', city: string): string {
    return `${this.prefix}${cityTag(city)}fleet:${kind}`;
  }

  /** A city's learned ETA state document. */
  eta(city: string): string {
    return `${this.prefix}${cityTag(city)}eta`;
  }

  /** The lease of the node that saves learned ETA state for the cluster. */
  etaWriter(): string {
    return `${this.prefix}eta:writer`;
  }

  /** A lease's key; a city's lease names carry its tag already (`cityScoped`). */
  lease(name: string): string {
    return `${this.prefix}lease:${name}`;
  }

  /** The catalog's keys (one compare-and-set script touches all three). */
  catalog(kind: 'version' | 'entries' | 'history'): string {
    return `${this.prefix}${CATALOG_TAG}catalog:${kind}`;
  }

  /**
   * BullMQ's prefix of a timers queue: braced, so every key of the queue is in one slot (BullMQ's rule on a
   * Cluster): a city's queue in the city's slot, the queue of timers without a city under `{timers}`.
   */
  timersQueuePrefix(city?: string): string {
    return city === undefined ? `${this.prefix}${TIMERS_TAG}` : `${this.prefix}${cityTag(city)}bull`;
  }

  /** The node registry's one hash (node id → entry): read whole by every node, so one key, untagged. */
  nodeRegistry(): string {
    return `${this.prefix}nodes`;
  }

  /** The Redis channel of a bus channel; a city's channel names carry its tag already (`cityScoped`). */
  channel(name: string): string {
    return this.prefix + name;
  }
}

/** Tag of the catalog's keys. */
export const CATALOG_TAG = '{catalog}';
/** Tag of the timers queue. */
export const TIMERS_TAG = '{timers}';

/** The hash tag of a city's keys (city names are A-Z a-z 0-9 _ -: never a brace). */
export function cityTag(city: string): string {
  return `{${city}}`;
}

/**
 * A name of the city scope for a port that knows no Redis (a bus channel, a lease): `{<city>}<name>`,
 * so the Redis adapter's key or channel lands in the city's slot; other adapters take it as a plain name.
 */
export function cityScoped(city: string, name: string): string {
  return `${cityTag(city)}${name}`;
}

/** The bus channel of a city's fleet mirror batches. */
export function fleetChannel(city: string): string {
  return cityScoped(city, 'fleet');
}

/** The Redis Cluster slot of a key (CRC16/XMODEM of its hash tag, or of the whole key, mod 16384). */
export function hashSlot(key: string): number {
  const buf = Buffer.from(key);
  let s = buf.indexOf(0x7b); // {
  let e = buf.length;
  if (s >= 0) {
    const close = buf.indexOf(0x7d, s + 1); // }
    if (close > s + 1) e = close, s = s + 1;
    else s = 0;
  } else s = 0;
  let crc = 0;
  for (let i = s; i < e; i++) {
    crc ^= buf[i]! << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
