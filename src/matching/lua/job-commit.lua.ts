// Redis script of the job repo: compare-and-set of a job with its claim changes (embedded so it ships inside dist/).
// The Lua is a TypeScript string so no file has to be found beside the compiled code at run time.
export const JOB_COMMIT_LUA = `-- Compare-and-set a job document together with driver claim changes, atomically.
-- Every key is of the job's city (hash tag {city}): one Redis Cluster slot. No key is built here.
-- KEYS[1]            job hash {v, doc}
-- KEYS[2] the city's held zset (id by creation order)   KEYS[3] the city's finished zset (id by end time, ms)
-- KEYS[4] the job's rider's set of live job ids in the city
-- KEYS[2k+3], KEYS[2k+4] offer key and active key (in the job's city) of the driver of claim op k (k = 1..n)
-- ARGV[1] expected version   ARGV[2] new doc JSON   ARGV[3] job id
-- ARGV[4] offer claim TTL, ms (claims lapse by themselves if every node died)
-- ARGV[5] TTL of a final job's document, ms, or 0 while the job is live
-- ARGV[6] now, ms   ARGV[7] most final jobs kept
-- ARGV[7+k] claim op k: claimOffer | releaseOffer | promote | releaseActive
-- Returns {'ok', id...}, {'conflict'} (version moved) or {'claim_failed'} (a claim precondition failed).
-- Final jobs past the TTL leave the city's sets here (their hashes expire by themselves: PEXPIRE at their
-- end); the ids after 'ok' are final jobs dropped beyond the count, whose hashes the caller deletes.
local v = redis.call('HGET', KEYS[1], 'v')
if (not v) or v ~= ARGV[1] then return {'conflict'} end
local id = ARGV[3]
local n = #ARGV - 7
for k = 1, n do
  local op = ARGV[7 + k]
  local offerKey, activeKey = KEYS[2 * k + 3], KEYS[2 * k + 4]
  if op == 'claimOffer' then
    if redis.call('EXISTS', offerKey) == 1 or redis.call('EXISTS', activeKey) == 1 then return {'claim_failed'} end
  elseif op == 'promote' then
    if redis.call('GET', offerKey) ~= id or redis.call('EXISTS', activeKey) == 1 then return {'claim_failed'} end
  end
end
for k = 1, n do
  local op = ARGV[7 + k]
  local offerKey, activeKey = KEYS[2 * k + 3], KEYS[2 * k + 4]
  if op == 'claimOffer' then
    redis.call('SET', offerKey, id, 'PX', ARGV[4])
  elseif op == 'releaseOffer' then
    if redis.call('GET', offerKey) == id then redis.call('DEL', offerKey) end
  elseif op == 'promote' then
    redis.call('DEL', offerKey)
    redis.call('SET', activeKey, id)
  elseif op == 'releaseActive' then
    if redis.call('GET', activeKey) == id then redis.call('DEL', activeKey) end
  end
end
redis.call('HSET', KEYS[1], 'v', tostring(tonumber(ARGV[1]) + 1), 'doc', ARGV[2])
local out = {'ok'}
if ARGV[5] ~= '0' then
  local now = tonumber(ARGV[6])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('SREM', KEYS[4], id)
  redis.call('ZADD', KEYS[3], now, id)
  -- Drop final jobs past the TTL (a bounded batch per commit) or beyond the count, oldest-ended first.
  local old = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[5]), 'LIMIT', 0, 100)
  local over = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[7])
  -- At most 100 by count too: after a restart with a smaller bound the excess goes over several commits,
  -- never in one long script that blocks the primary.
  if over > #old then
    old = redis.call('ZRANGE', KEYS[3], 0, math.min(over, 100) - 1)
    for _, gone in ipairs(old) do table.insert(out, gone) end
  end
  for _, gone in ipairs(old) do
    redis.call('ZREM', KEYS[2], gone)
    redis.call('ZREM', KEYS[3], gone)
  end
end
return out
`;
