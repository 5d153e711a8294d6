-- fivedVoidRejected: void a period whose stored result failed verification against its commitment
-- (issue 12 row 10). The only way a period with a stored result becomes void: RedisStore
-- .voidUnverifiedResult verified the stored value in TS (Lua has no SHA-256) and passes its SHA-1;
-- this script re-checks that the stored value is still exactly that one and that no settlement was
-- (being) applied, then moves the result aside (kept for the operators, never served) and marks
-- the period void. Refunds follow in chunks (void_refund.lua). A result that verifies is never
-- voided: void_start.lua keeps refusing it (-18).
-- KEYS: 1 meta, 2 pending zset, 3 result (runbook key), 4 rejected result
-- ARGV: 1 reason, 2 period member, 3 ttl (s), 4 SHA-1 hex of the stored value that failed verification
-- returns: {1} newly void | {0} already void | {-14} a settlement was (being) applied: cannot void |
--          {-18} the stored result is not the one that failed verification
local m = redis.call('HMGET', KEYS[1], 'void', 'settled', 'cursor')
if m[1] then return {0} end
if m[2] or tonumber(m[3] or '0') > 0 then return {-14} end
local v = redis.call('GET', KEYS[3])
if not v or redis.sha1hex(v) ~= ARGV[4] then return {-18} end
redis.call('SET', KEYS[4], v, 'EX', ARGV[3])
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[1], 'void', '1', 'reason', ARGV[1], 'vcursor', '0')
if redis.call('TTL', KEYS[1]) == -1 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
redis.call('ZREM', KEYS[2], ARGV[2])
return {1}
