-- fivedCredit: a deposit, idempotent by its id.
-- KEYS: 1 wallet balances, 2 wallet totals, 3 wallet deposits (hash id → `${userId}\n${amount}`)
-- ARGV: 1 userId, 2 amount, 3 depositId
-- returns: {1, balance} credited | {2, balance} duplicate (nothing changed) | {-9} same id, other content
local content = ARGV[1] .. '\n' .. ARGV[2]
local prev = redis.call('HGET', KEYS[3], ARGV[3])
if prev then
  if prev ~= content then return {-9} end
  return {2, tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')}
end
redis.call('HSET', KEYS[3], ARGV[3], content)
local b = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], 'deposits', ARGV[2])
return {1, b}
