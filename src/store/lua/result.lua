-- fivedResult: store a period's result once (SET … EX … NX on the runbook key); the first wins.
-- KEYS: 1 result (runbook key), 2 meta, 3 scheduler epoch
-- ARGV: 1 msgpack StoredResult, 2 ttl (s), 3 fence epoch ('' = no fence), 4 the result's commitment
-- returns: {1, value} stored | {0, value} another result was there (returned) |
--          {-11} stale epoch | {-1} void | {-2} not committed | {-13} commitment differs
if ARGV[3] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[3] then return {-11} end
local existing = redis.call('GET', KEYS[1])
if existing then return {0, existing} end
local m = redis.call('HMGET', KEYS[2], 'commitment', 'void')
if m[2] then return {-1} end
if not m[1] then return {-2} end
if m[1] ~= ARGV[4] then return {-13} end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX')
return {1, ARGV[1]}
