// Redis script of the job repo: creates a job document if absent (embedded so it ships inside dist/).
// The Lua is a TypeScript string so no file has to be found beside the compiled code at run time.
export const JOB_CREATE_LUA = `-- Create a job document if absent.
-- KEYS[1] job hash; ARGV[1] doc JSON. Returns 1 when created, 0 when the id exists.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', '1', 'doc', ARGV[1])
return 1
`;
