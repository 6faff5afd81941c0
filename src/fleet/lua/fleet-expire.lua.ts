// Redis script of the fleet mirror: expires silent drivers from one city (embedded so it ships inside dist/).
// The Lua is a TypeScript string so no file has to be found beside the compiled code at run time.
export const FLEET_EXPIRE_LUA = `-- Remove drivers silent since before a cutoff from one city's mirror (Redis GEO has no per-member expiry).
-- KEYS[1] GEO set   KEYS[2] position hash   KEYS[3] last-seen sorted set (score = last fix ts, ms)
-- ARGV[1] cutoff, ms   ARGV[2] most members removed per call
-- Returns the number of drivers removed.
local ids = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #ids == 0 then return 0 end
redis.call('ZREM', KEYS[1], unpack(ids))
redis.call('HDEL', KEYS[2], unpack(ids))
redis.call('ZREM', KEYS[3], unpack(ids))
return #ids
`;
