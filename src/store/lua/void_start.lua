-- fivedVoidStart: mark a period void (idempotent); refunds follow in chunks (void_refund.lua).
-- KEYS: 1 meta, 2 pending zset, 3 the period's result (runbook key)
-- ARGV: 1 reason, 2 period member, 3 ttl (s) for a meta hash that did not exist yet
-- returns: {1} newly void | {0} already void | {-14} a settlement was (being) applied: cannot void |
--          {-18} a result is stored: a period has one result or is void, never both (docs/design.md rule 2)
local m = redis.call('HMGET', KEYS[1], 'void', 'settled', 'cursor')
if m[1] then return {0} end
if m[2] or tonumber(m[3] or '0') > 0 then return {-14} end
if redis.call('EXISTS', KEYS[3]) == 1 then return {-18} end
redis.call('HSET', KEYS[1], 'void', '1', 'reason', ARGV[1], 'vcursor', '0')
if redis.call('TTL', KEYS[1]) == -1 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
redis.call('ZREM', KEYS[2], ARGV[2])
return {1}
