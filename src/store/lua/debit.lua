-- fivedDebit: a withdrawal (issue 14), idempotent by its id, refused beyond the balance. One script
-- like a bet batch, so a withdrawal and a bet racing for the same money never both get it. The
-- withdrawal's ledger entry is written here too (lib/ledger.lua).
-- KEYS: 1 wallet balances, 2 wallet totals, 3 wallet withdrawals (hash id → `${userId}\n${amount}\n${balance after}`),
--       4 ledger seq, 5 ledger feed, 6 the user's ledger (list), 7 ledger pending (hash)
-- ARGV: 1 userId, 2 amount, 3 withdrawalId, 4 feed keep, 5 user ledger ttl (s), 6 user keep
-- returns: {1, balance} debited | {2, balance} duplicate: the first answer (nothing changed) |
--          {-9} same id, other content | {-8, balance} insufficient funds (nothing changed) |
--          {-31, balance} stored balance out of range
--!include ledger
local content = ARGV[1] .. '\n' .. ARGV[2]
local prev = redis.call('HGET', KEYS[3], ARGV[3])
if prev then
  local c, bal = string.match(prev, '^(.*)\n(%d+)$')
  if c ~= content then return {-9} end
  return {2, bal}
end
local cur = redis.call('HGET', KEYS[1], ARGV[1]) or '0'
local b = balance_of(cur)
if not b then return {-31, cur} end
if b < tonumber(ARGV[2]) then return {-8, cur} end
local nb = redis.call('HINCRBY', KEYS[1], ARGV[1], '-' .. ARGV[2])
local nbs = string.format('%d', nb)
redis.call('HSET', KEYS[3], ARGV[3], content .. '\n' .. nbs)
redis.call('HINCRBY', KEYS[2], 'withdrawals', ARGV[2])
local L = ledger_open(KEYS[4], KEYS[5], store_now())
local seq, text = ledger_add(L, ARGV[1], 'w', -tonumber(ARGV[2]), nb, ARGV[3])
local z = {}
ledger_flush(redis.call('HGET', KEYS[7], ARGV[1]), z)
if #z > 0 then redis.call('HDEL', KEYS[7], ARGV[1]) end
z[#z + 1] = text
ledger_user(KEYS[6], ARGV[5], tonumber(ARGV[6]), z)
ledger_close(L, tonumber(ARGV[4]))
return {1, nbs}
