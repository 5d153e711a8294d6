-- fivedCredit: a deposit, idempotent by its id, refused when it would take the balance above the
-- maximum balance. Every balance stays an exact integer in Lua's doubles: the cap is <= 2^53-1
-- (checked at config), a stored balance beyond that range is refused, never rounded.
-- The deposit's ledger entry is written here too (lib/ledger.lua).
-- KEYS: 1 wallet balances, 2 wallet totals, 3 wallet deposits (hash id → `${userId}\n${amount}`),
--       4 ledger seq, 5 ledger feed, 6 the user's ledger (list), 7 ledger pending (hash)
-- ARGV: 1 userId, 2 amount, 3 depositId, 4 max balance, 5 feed keep, 6 user ledger ttl (s), 7 user keep
-- returns: {1, balance} credited | {2, balance} duplicate (nothing changed) | {-9} same id, other content |
--          {-30, balance} above the maximum balance (nothing changed) | {-31, balance} stored balance out of range
-- (balance as the stored text, so the caller reads it exactly)
--!include ledger
local content = ARGV[1] .. '\n' .. ARGV[2]
local prev = redis.call('HGET', KEYS[3], ARGV[3])
local cur = redis.call('HGET', KEYS[1], ARGV[1]) or '0'
if prev then
  if prev ~= content then return {-9} end
  return {2, cur}
end
local b = balance_of(cur)
if not b then return {-31, cur} end
-- b + amount is exact below 2^53 and above the cap (<= 2^53-1) whenever it is not
if b + tonumber(ARGV[2]) > tonumber(ARGV[4]) then return {-30, cur} end
redis.call('HSET', KEYS[3], ARGV[3], content)
local nb = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], 'deposits', ARGV[2])
local L = ledger_open(KEYS[4], KEYS[5], store_now())
local seq, text = ledger_add(L, ARGV[1], 'd', tonumber(ARGV[2]), nb, ARGV[3])
local z = {}
ledger_flush(redis.call('HGET', KEYS[7], ARGV[1]), z)
if #z > 0 then redis.call('HDEL', KEYS[7], ARGV[1]) end
z[#z + 1] = text
ledger_user(KEYS[6], ARGV[6], tonumber(ARGV[7]), z)
ledger_close(L, tonumber(ARGV[5]))
return {1, string.format('%d', nb)}
