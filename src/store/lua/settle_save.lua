-- fivedSettleSave: persist a settlement plan once (first plan wins) and add it to the pending set.
-- KEYS: 1 meta, 2 pay (f64 per seq), 3 wusers (winner ids), 4 wamt (f64 per winner), 5 pending zset,
--       6 scheduler epoch, 7 recs (its length is the bet count)
-- ARGV: 1 fence epoch ('' = none), 2 betCount, 3 payouts blob, 4 winner amounts blob,
--       5 total payout, 6 endsAt, 7 period member, 8 ttl (s), 9.. winner user ids (same order as 4)
-- returns: {1} saved | {0} a plan was already saved | {-11} stale epoch | {-1} void |
--          {-16, storedBetCount} bet count differs from the store's | {-17} not frozen
if ARGV[1] ~= '' and redis.call('GET', KEYS[6]) ~= ARGV[1] then return {-11} end
local m = redis.call('HMGET', KEYS[1], 'plan', 'void', 'frozen')
local n = redis.call('STRLEN', KEYS[7]) / 16
if m[2] then return {-1} end
if m[1] then return {0} end
if not m[3] then return {-17} end
if n ~= tonumber(ARGV[2]) then return {-16, n} end
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[8])
redis.call('SET', KEYS[4], ARGV[4], 'EX', ARGV[8])
redis.call('DEL', KEYS[3])
local i = 9
while i <= #ARGV do
  local j = math.min(i + 999, #ARGV)
  redis.call('RPUSH', KEYS[3], unpack(ARGV, i, j))
  i = j + 1
end
redis.call('EXPIRE', KEYS[3], ARGV[8])
redis.call('HSET', KEYS[1], 'plan', '1', 'total', ARGV[5], 'winners', #ARGV - 8, 'cursor', '0')
redis.call('ZADD', KEYS[5], ARGV[6], ARGV[7])
return {1}
