// Redis ZoneQueue (cluster mode): one queue per airport zone shared by every node, each operation one atomic Lua script.
import type { RedisClient } from '../bus/redis-connection.js';
import { RedisKeys } from '../storage/redis-keys.js';
import type { JoinResult, QueueMember, QueueRef, QueueSpot, ZoneQueue } from './zone-queue.js';
import { MAX_LIST } from './zone-queue.js';
import { ZQ_JOIN_LUA, ZQ_LEAVE_LUA, ZQ_LIST_LUA, ZQ_POSITION_LUA } from './lua/zone-queue.lua.js';

type Scripted = RedisClient & {
  twZqJoin(k1: string, k2: string, k3: string, driver: string, at: string, max: string): Promise<number[]>;
  twZqLeave(k1: string, k2: string, k3: string, driver: string): Promise<number[]>;
  twZqPosition(k1: string, k2: string, k3: string, driver: string): Promise<number[]>;
  twZqList(k1: string, k2: string, k3: string, offset: string, limit: string): Promise<Array<number | string>>;
};


/**
 * Every key of one queue (prefix P, city C, zone Z): `P{C}zq:Z` zset (driver → join sequence),
 * `P{C}zq:Z:seq` (the sequence counter), `P{C}zq:Z:at` hash (driver → joined ms). The `{C}` hash tag
 * puts a city's queues in one Redis Cluster slot, so each script's keys share a slot. Named in
 * `storage/redis-keys.ts`, the one home of Redis key names.
 */
export function zoneQueueKeys(prefix: string, q: QueueRef): [order: string, seq: string, joined: string] {
  return new RedisKeys(prefix).zoneQueue(q.city, q.zone);
}

export class RedisZoneQueue implements ZoneQueue {
  private readonly r: Scripted;

  constructor(redis: RedisClient, private readonly prefix: string) {
    redis.defineCommand('twZqJoin', { numberOfKeys: 3, lua: ZQ_JOIN_LUA });
    redis.defineCommand('twZqLeave', { numberOfKeys: 3, lua: ZQ_LEAVE_LUA });
    redis.defineCommand('twZqPosition', { numberOfKeys: 3, lua: ZQ_POSITION_LUA });
    redis.defineCommand('twZqList', { numberOfKeys: 3, lua: ZQ_LIST_LUA });
    this.r = redis as Scripted;
  }

  async join(q: QueueRef, driver: string, nowMs: number, maxLength: number): Promise<JoinResult> {
    const [position, length, added, full] = await this.r.twZqJoin(...zoneQueueKeys(this.prefix, q), driver, String(Math.floor(nowMs)), String(maxLength));
    return { position: position!, length: length!, added: added === 1, full: full === 1 };
  }

  async leave(q: QueueRef, driver: string): Promise<{ removed: boolean; length: number }> {
    const [removed, length] = await this.r.twZqLeave(...zoneQueueKeys(this.prefix, q), driver);
    return { removed: removed === 1, length: length! };
  }

  async position(q: QueueRef, driver: string): Promise<QueueSpot> {
    const [position, length] = await this.r.twZqPosition(...zoneQueueKeys(this.prefix, q), driver);
    return { position: position!, length: length! };
  }

  async list(q: QueueRef, offset: number, limit: number): Promise<{ members: QueueMember[]; length: number }> {
    const n = Math.max(0, Math.min(MAX_LIST, Math.floor(limit)));
    const out = await this.r.twZqList(...zoneQueueKeys(this.prefix, q), String(Math.max(0, Math.floor(offset))), String(n));
    const members: QueueMember[] = [];
    if (n > 0) for (let i = 1; i + 1 < out.length; i += 2) members.push({ driver: String(out[i]), joined: Number(out[i + 1]) });
    return { members, length: Number(out[0]) };
  }

  async clear(q: QueueRef): Promise<void> {
    await this.r.del(...zoneQueueKeys(this.prefix, q));
  }
}
