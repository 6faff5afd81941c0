// Redis script of the catalog store: one compare-and-set change of a city or zone with its history record (embedded so it ships inside dist/).
export const CATALOG_WRITE_LUA = `-- Apply changes to the catalog if its version is still the expected one.
-- KEYS[1] version counter   KEYS[2] entries hash (kind:key -> entry JSON)   KEYS[3] history list (change JSON, oldest first)
-- ARGV[1] expected version   ARGV[2] ts (ms)   ARGV[3] history cap
-- then per change 3 ARGVs: kind, key, doc JSON ('' for a delete). kind and key are checked names (no quotes).
-- Returns {0, version} when the version moved, else {1, change JSON of each change...}.
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
if v ~= tonumber(ARGV[1]) then return {0, v} end
local out = {1}
local i = 4
while i <= #ARGV do
  local kind, key, doc = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  v = v + 1
  local field = kind .. ':' .. key
  local created = v
  local old = redis.call('HGET', KEYS[2], field)
  if old then created = tonumber(string.match(old, '"created":(%d+)')) end
  local docJson = doc
  if doc == '' then
    docJson = 'null'
    redis.call('HDEL', KEYS[2], field)
  else
    redis.call('HSET', KEYS[2], field, '{"kind":"' .. kind .. '","key":"' .. key .. '","version":' .. v .. ',"created":' .. created .. ',"doc":' .. doc .. '}')
  end
  local change = '{"version":' .. v .. ',"kind":"' .. kind .. '","key":"' .. key .. '","created":' .. created .. ',"ts":' .. ARGV[2] .. ',"doc":' .. docJson .. '}'
  redis.call('RPUSH', KEYS[3], change)
  table.insert(out, change)
  i = i + 3
end
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[3]), -1)
redis.call('SET', KEYS[1], v)
return out
`;
