// Redis scripts of the airport zone queues (matching/redis-zone-queue.ts): each operation is one atomic script over the queue's three keys.
//
// KEYS[1] zset driver -> join sequence (the order), KEYS[2] the sequence counter, KEYS[3] hash driver -> joined ms.
// All three share the city's hash tag, so one script touches one Redis Cluster slot.

/** ARGV: driver, joined ms, max length. Returns {position, length, added 0|1, full 0|1}. */
export const ZQ_JOIN_LUA = `
local r = redis.call('ZRANK', KEYS[1], ARGV[1])
local n = redis.call('ZCARD', KEYS[1])
if r then return {r + 1, n, 0, 0} end
if n >= tonumber(ARGV[3]) then return {0, n, 0, 1} end
local s = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], s, ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
return {n + 1, n + 1, 1, 0}
`;

/** ARGV: driver. Returns {removed 0|1, length}; an emptied queue leaves no key behind. */
export const ZQ_LEAVE_LUA = `
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
local n = redis.call('ZCARD', KEYS[1])
if n == 0 then redis.call('DEL', KEYS[2], KEYS[3]) end
return {removed, n}
`;

/** ARGV: driver. Returns {position (0: absent), length}. */
export const ZQ_POSITION_LUA = `
local r = redis.call('ZRANK', KEYS[1], ARGV[1])
local n = redis.call('ZCARD', KEYS[1])
if r then return {r + 1, n} end
return {0, n}
`;

/** ARGV: offset, limit. Returns {length, driver1, joined1, driver2, joined2, ...} in queue order. */
export const ZQ_LIST_LUA = `
local n = redis.call('ZCARD', KEYS[1])
local out = {n}
if tonumber(ARGV[2]) <= 0 then return out end
local ids = redis.call('ZRANGE', KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[1]) + tonumber(ARGV[2]) - 1)
if #ids == 0 then return out end
local at = redis.call('HMGET', KEYS[3], unpack(ids))
for i = 1, #ids do
  out[#out + 1] = ids[i]
  out[#out + 1] = at[i] or '0'
end
return out
`;
