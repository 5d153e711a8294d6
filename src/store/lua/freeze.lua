-- fivedFreeze: set the period's frozen flag (idempotent). After it, bet.lua refuses every bet, so
-- the records read next are complete.
-- KEYS: 1 meta, 2 users (string of '\n'-terminated ids), 3 recs
-- ARGV: 1 ttl (s) for a meta hash that did not exist yet
-- returns: {betCount, byte length of the users string}
redis.call('HSET', KEYS[1], 'frozen', '1')
if redis.call('TTL', KEYS[1]) == -1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return { redis.call('STRLEN', KEYS[3]) / 16, redis.call('STRLEN', KEYS[2]) }
