-- Create a job document if absent.
-- KEYS[1] job hash; ARGV[1] doc JSON. Returns 1 when created, 0 when the id exists.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', '1', 'doc', ARGV[1])
return 1
