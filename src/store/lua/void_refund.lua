-- fivedVoidRefund: refund the next chunk of users of a void period (each user's whole gross stake).
-- The journal cursor (meta.vcursor, a byte offset into the users string) advances in the same
-- script as the refunds, so every user is refunded exactly once whatever crashes in between.
-- A refund that would take a balance above the maximum balance (ARGV 3), or onto a stored balance
-- that is not an exact integer, is held (wallet:held, logged in wallet:heldlog), never rounded or
-- lost; `refunds` counts it either way. A chunk ends early rather than let its sum pass 2^53-1,
-- so every number here stays an exact integer.
-- KEYS: 1 meta, 2 users (string of '\n'-terminated ids), 3 ustake, 4 wallet balances, 5 wallet totals,
--       6 unfinished zset, 7 wallet held (hash), 8 wallet held log (list), 9 ledger seq, 10 ledger feed,
--       11 ledger pending (hash)
-- ARGV: 1 chunk size in bytes of the users string (>= 130: one whole id at least), 2 period member,
--       3 max balance (<= 2^53-1), 4 ledger feed keep
-- Every credited refund is a ledger entry (lib/ledger.lua, issue 14), ref = the period member, as in
-- settle_apply.lua; a held refund changes no balance: no entry.
-- returns: {1, refunded, done(0|1), held, heldCount} | {0, 0, 1, 0, 0} nothing left (already refunded, or not void)
--!include ledger
local MAX = 9007199254740991
local m = redis.call('HMGET', KEYS[1], 'void', 'vcursor', 'refunded')
if not m[1] or m[3] then return {0, 0, 1, 0, 0} end
local cursor = tonumber(m[2] or '0')
local len = redis.call('STRLEN', KEYS[2])
local cap = tonumber(ARGV[3])
local refunded, held, nheld = 0, 0, 0
if cursor < len then
  local text = redis.call('GETRANGE', KEYS[2], cursor, cursor + tonumber(ARGV[1]) - 1)
  local consumed = 0
  local L = ledger_open(KEYS[9], KEYS[10], store_now())
  local lids, ltexts = {}, {}
  for id in string.gmatch(text, '([^\n]*)\n') do
    local raw = redis.call('HGET', KEYS[3], id)
    local s = tonumber(raw or '0') -- a period stake: <= FIVED_MAX_USER_STAKE, an exact integer
    if s > 0 then
      if consumed > 0 and refunded + held + s > MAX then break end -- the rest in the next call
      local b = balance_of(redis.call('HGET', KEYS[4], id)) -- nil: not a balance fived wrote, held
      if b and b + s <= cap then
        redis.call('HINCRBY', KEYS[4], id, raw)
        refunded = refunded + s
        local _, ltext = ledger_add(L, id, 'r', s, b + s, ARGV[2])
        lids[#lids + 1], ltexts[#ltexts + 1] = id, ltext
      else
        redis.call('HINCRBY', KEYS[7], id, raw)
        redis.call('LPUSH', KEYS[8], ARGV[2] .. '|refund|' .. id .. '|' .. raw)
        held = held + s
        nheld = nheld + 1
      end
    end
    consumed = consumed + #id + 1
  end
  if nheld > 0 then redis.call('LTRIM', KEYS[8], 0, 999) end
  if refunded + held > 0 then redis.call('HINCRBY', KEYS[5], 'refunds', string.format('%d', refunded + held)) end
  ledger_pend(KEYS[11], lids, ltexts)
  ledger_close(L, tonumber(ARGV[4]))
  cursor = cursor + consumed
end
if cursor >= len then
  redis.call('HSET', KEYS[1], 'vcursor', cursor, 'refunded', '1')
  redis.call('ZREM', KEYS[6], ARGV[2])
  return {1, refunded, 1, held, nheld}
end
redis.call('HSET', KEYS[1], 'vcursor', cursor)
return {1, refunded, 0, held, nheld}
