-- fivedBet: place one bet, all or nothing. Input was validated in TS (ids, kind/pick, amount,
-- per-bet min/max), so everything here depends on stored state.
-- KEYS: 1 meta, 2 recs (packed records), 3 users (string of '\n'-terminated ids), 4 uidx (hash), 5 gross (hash),
--       6 net (hash), 7 ustake (hash), 8 idem (hash), 9 this user's clientBetIds in the period (list),
--       10 wallet balances (hash), 11 wallet totals (hash), 12 this user's periods (zset)
-- ARGV: 1 userId, 2 clientBetId, 3 pattern 0..73, 4 gross amount, 5 net amount, 6 caller now (ms),
--       7 max user stake per period, 8 max liability (0 = none), 9 period member, 10 ttl (s),
--       11..15 multipliers number, bigSmall, oddEven, sumBigSmall, sumOddEven
-- returns: {1, seq, placedAt, balance, storeStakesTotal} accepted |
--          {2, seq, placedAt, balance, 0} duplicate (the first acknowledgement) |
--          {-1} void | {-2} not committed | {-3} frozen | {-4} not open | {-5} closed |
--          {-6} user limit | {-7} liability limit | {-8} insufficient funds | {-9} duplicate conflict
--!include liability
local user, cbid = ARGV[1], ARGV[2]
local field = user .. '\n' .. cbid
local prev = redis.call('HGET', KEYS[8], field)
if prev then
  -- entry: seq|pattern|amount|placedAt|balance
  local seq, pat, amt, at, bal = string.match(prev, '^(%d+)|(%d+)|(%d+)|(%d+)|(%-?%d+)$')
  if pat ~= ARGV[3] or amt ~= ARGV[4] then return {-9} end
  return {2, tonumber(seq), tonumber(at), tonumber(bal), 0}
end

local m = redis.call('HMGET', KEYS[1], 'commitment', 'void', 'frozen', 'startsAt', 'freezeAt', 'endsAt')
if m[2] then return {-1} end
if not m[1] then return {-2} end
if m[3] then return {-3} end
local now = tonumber(ARGV[6])
if now < tonumber(m[4]) then return {-4} end
if now >= tonumber(m[6]) then return {-5} end
if now >= tonumber(m[5]) then return {-3} end

local amount = tonumber(ARGV[4])
local pattern = tonumber(ARGV[3])
local staked = tonumber(redis.call('HGET', KEYS[7], user) or '0')
if staked + amount > tonumber(ARGV[7]) then return {-6} end

local cap = tonumber(ARGV[8])
if cap > 0 then
  local fields = {}
  for i = 0, 73 do fields[i + 1] = tostring(i) end
  local raw = redis.call('HMGET', KEYS[6], unpack(fields))
  local net = {}
  for i = 1, 74 do net[i] = tonumber(raw[i] or '0') end
  net[pattern + 1] = net[pattern + 1] + tonumber(ARGV[5])
  local pay = { tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14]), tonumber(ARGV[15]) }
  if liability_bound(net, pay) > cap then return {-7} end
end

local balance = tonumber(redis.call('HGET', KEYS[10], user) or '0')
if balance < amount then return {-8} end

local ui = redis.call('HGET', KEYS[4], user)
local firstInPeriod = not ui
if firstInPeriod then
  -- a user's first bet in the period: next user index, id appended to the newline-separated list
  ui = redis.call('HLEN', KEYS[4])
  redis.call('HSET', KEYS[4], user, string.format('%d', ui))
  redis.call('APPEND', KEYS[3], user .. '\n')
end
-- the records blob is the bet count: seq = index of the record just appended
local seq = redis.call('APPEND', KEYS[2], struct.pack('<I4BBHd', tonumber(ui), pattern, 0, 0, amount)) / 16 - 1
redis.call('HINCRBY', KEYS[5], ARGV[3], ARGV[4])
redis.call('HINCRBY', KEYS[6], ARGV[3], ARGV[5])
redis.call('HINCRBY', KEYS[7], user, ARGV[4])
local newBalance = redis.call('HINCRBY', KEYS[10], user, '-' .. ARGV[4])
-- stakes only grows: after a reconnect, a smaller value means Redis came back with older data
local stakes = redis.call('HINCRBY', KEYS[11], 'stakes', ARGV[4])
-- numbers are formatted explicitly: Lua's tostring turns 1e12 into '1e+12'
redis.call('HSET', KEYS[8], field, string.format('%d|%s|%s|%s|%.0f', seq, ARGV[3], ARGV[4], ARGV[6], newBalance))
-- TTLs are set when a key is created (first record, first bet of the user, first period of the user)
if redis.call('RPUSH', KEYS[9], cbid) == 1 then redis.call('EXPIRE', KEYS[9], ARGV[10]) end
if firstInPeriod then
  redis.call('ZADD', KEYS[12], m[6], ARGV[9])
  redis.call('EXPIRE', KEYS[12], ARGV[10])
end
if seq == 0 then
  for i = 2, 8 do redis.call('EXPIRE', KEYS[i], ARGV[10]) end
end
return {1, seq, now, newBalance, stakes}
