// Redis script of the job repo: creates a job document if absent, under the rider's open-jobs cap (embedded so it ships inside dist/).
// The Lua is a TypeScript string so no file has to be found beside the compiled code at run time.
export const JOB_CREATE_LUA = `-- Create a job document if absent, unless its rider holds too many live jobs.
-- Every key is of the job's city (hash tag {city}): one Redis Cluster slot.
-- KEYS[1] job hash   KEYS[2] the city's held zset   KEYS[3] the city's creation counter
-- KEYS[4] the rider's set of live job ids in the city
-- ARGV[1] doc JSON   ARGV[2] job id   ARGV[3] the rider's open-jobs cap, or 0 for none
-- ARGV[4] the job's creation time, ms
-- The held score is creation time × 1000 + the city's counter mod 1000: newest first within a city and
-- comparable across cities (a list of every city merges them); below 2^53 until the year 287,000.
-- Returns 1 when created, 0 when the id exists, -1 when the rider is at the cap.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local cap = tonumber(ARGV[3])
if cap > 0 and redis.call('SCARD', KEYS[4]) >= cap then return -1 end
redis.call('HSET', KEYS[1], 'v', '1', 'doc', ARGV[1])
local score = tonumber(ARGV[4]) * 1000 + (redis.call('INCR', KEYS[3]) % 1000)
redis.call('ZADD', KEYS[2], string.format('%.0f', score), ARGV[2])
redis.call('SADD', KEYS[4], ARGV[2])
return 1
`;
