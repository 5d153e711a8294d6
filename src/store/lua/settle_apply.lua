-- fivedSettleApply: apply the next chunk of a saved plan. The journal cursor (meta.cursor) is read
-- and advanced in the same script as the credits, so a crash between chunks resumes exactly there
-- and a settled period changes nothing.
-- KEYS: 1 meta, 2 wusers, 3 wamt, 4 wallet balances, 5 wallet totals, 6 pending zset, 7 scheduler epoch,
--       8 unfinished zset
-- ARGV: 1 fence epoch ('' = none), 2 caller now (ms), 3 chunk size (winners), 4 period member
-- returns: {1, credited, done(0|1)} chunk applied | {0, 0, 1} already settled |
--          {-11} stale epoch | {-1} void | {-15} no plan saved |
--          {-12, storeNow} before the period's end by Redis TIME (or by the caller's now)
-- The end is judged by Redis's own clock (DESIGN rule 4: the store decides): a caller whose clock
-- runs ahead must not move money before the end. The caller's now is only an extra check.
if ARGV[1] ~= '' and redis.call('GET', KEYS[7]) ~= ARGV[1] then return {-11} end
local m = redis.call('HMGET', KEYS[1], 'plan', 'settled', 'void', 'endsAt', 'cursor', 'winners')
if m[3] then return {-1} end
if not m[1] then return {-15} end
if m[2] then return {0, 0, 1} end
local t = redis.call('TIME')
local storeNow = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if storeNow < tonumber(m[4]) or tonumber(ARGV[2]) < tonumber(m[4]) then return {-12, storeNow} end
local cursor = tonumber(m[5] or '0')
local total = tonumber(m[6] or '0')
local last = math.min(cursor + tonumber(ARGV[3]), total) - 1
local credited = 0
if last >= cursor then
  local ids = redis.call('LRANGE', KEYS[2], cursor, last)
  local blob = redis.call('GETRANGE', KEYS[3], cursor * 8, (last + 1) * 8 - 1)
  for k = 1, #ids do
    local amt = struct.unpack('<d', blob, (k - 1) * 8 + 1)
    if amt > 0 then
      redis.call('HINCRBY', KEYS[4], ids[k], string.format('%.0f', amt))
      credited = credited + amt
    end
  end
  redis.call('HINCRBY', KEYS[5], 'payouts', string.format('%.0f', credited))
end
cursor = last + 1
if cursor >= total then
  redis.call('HSET', KEYS[1], 'cursor', cursor, 'settled', '1')
  redis.call('ZREM', KEYS[6], ARGV[4])
  redis.call('ZREM', KEYS[8], ARGV[4])
  return {1, credited, 1}
end
redis.call('HSET', KEYS[1], 'cursor', cursor)
return {1, credited, 0}
