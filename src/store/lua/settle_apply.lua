-- fivedSettleApply: apply the next chunk of a saved plan. The journal cursor (meta.cursor) is read
-- and advanced in the same script as the credits, so a crash between chunks resumes exactly there
-- and a settled period changes nothing.
-- A payout that would take a balance above the maximum balance (ARGV 5), or onto a stored balance
-- that is not an exact integer (written outside fived), is never rounded and never lost: it goes to
-- the user's held amount (wallet:held) in the same step, logged in wallet:heldlog; `payouts` counts
-- it either way (deposits + payouts + refunds = balances + stakes + held).
-- KEYS: 1 meta, 2 wusers, 3 wamt, 4 wallet balances, 5 wallet totals, 6 pending zset, 7 scheduler epoch,
--       8 unfinished zset, 9 wallet held (hash), 10 wallet held log (list), 11 ledger seq, 12 ledger feed,
--       13 ledger pending (hash)
-- ARGV: 1 fence epoch ('' = none), 2 caller now (ms), 3 chunk size (winners), 4 period member,
--       5 max balance (<= 2^53-1), 6 ledger feed keep
-- Every credited payout is a ledger entry (lib/ledger.lua, issue 14), ref = the period member: one
-- XADD per chunk and the winners' pending entries in one HMGET + HSET per 1000 winners
-- (ledger_pend). A held payout changes no balance: no entry (it is in wallet:held / heldlog).
-- returns: {1, credited, done(0|1), held, heldCount} chunk applied | {0, 0, 1, 0, 0} already settled |
--          {-11} stale epoch | {-1} void | {-15} no plan saved |
--          {-12, storeNow} before the period's end by Redis TIME (or by the caller's now)
-- The end is judged by Redis's own clock (docs/design.md rule 4: the store decides): a caller whose
-- clock runs ahead must not move money before the end. The caller's now is only an extra check.
--!include ledger
if ARGV[1] ~= '' and redis.call('GET', KEYS[7]) ~= ARGV[1] then return {-11} end
local m = redis.call('HMGET', KEYS[1], 'plan', 'settled', 'void', 'endsAt', 'cursor', 'winners')
if m[3] then return {-1} end
if not m[1] then return {-15} end
if m[2] then return {0, 0, 1, 0, 0} end
local storeNow = store_now()
if storeNow < tonumber(m[4]) or tonumber(ARGV[2]) < tonumber(m[4]) then return {-12, storeNow} end
local cursor = tonumber(m[5] or '0')
local total = tonumber(m[6] or '0')
local last = math.min(cursor + tonumber(ARGV[3]), total) - 1
local credited, held, nheld = 0, 0, 0
if last >= cursor then
  local ids = redis.call('LRANGE', KEYS[2], cursor, last)
  local blob = redis.call('GETRANGE', KEYS[3], cursor * 8, (last + 1) * 8 - 1)
  local cap = tonumber(ARGV[5])
  local L = ledger_open(KEYS[11], KEYS[12], storeNow)
  local lids, ltexts = {}, {}
  -- the winners' balances, read in HMGETs of at most 1000 (one call, not one per winner; unpack stays small)
  local bals, after = {}, {}
  for i = 1, #ids, 1000 do
    local part = redis.call('HMGET', KEYS[4], unpack(ids, i, math.min(i + 999, #ids)))
    for j = 1, #part do bals[i + j - 1] = part[j] end
  end
  for k = 1, #ids do
    -- amounts are integers <= 2^53-1 (checkPlan), and so is their sum (the plan's total): exact
    local amt = struct.unpack('<d', blob, (k - 1) * 8 + 1)
    if amt > 0 then
      local s = string.format('%d', amt)
      local b = after[ids[k]] or balance_of(bals[k]) -- winners are distinct users; `after` guards anyway
      -- b + amt is exact below 2^53, and above the cap whenever it is not; a balance fived did not
      -- write (nil) is held like one at the cap, never changed by a HINCRBY that would fail half-way
      if b and b + amt <= cap then
        redis.call('HINCRBY', KEYS[4], ids[k], s)
        after[ids[k]] = b + amt
        credited = credited + amt
        local _, ltext = ledger_add(L, ids[k], 'p', amt, b + amt, ARGV[4])
        lids[#lids + 1], ltexts[#ltexts + 1] = ids[k], ltext
      else
        redis.call('HINCRBY', KEYS[9], ids[k], s)
        redis.call('LPUSH', KEYS[10], ARGV[4] .. '|payout|' .. ids[k] .. '|' .. s)
        held = held + amt
        nheld = nheld + 1
      end
    end
  end
  if nheld > 0 then redis.call('LTRIM', KEYS[10], 0, 999) end
  redis.call('HINCRBY', KEYS[5], 'payouts', string.format('%d', credited + held))
  ledger_pend(KEYS[13], lids, ltexts)
  ledger_close(L, tonumber(ARGV[6]))
end
cursor = last + 1
if cursor >= total then
  redis.call('HSET', KEYS[1], 'cursor', cursor, 'settled', '1')
  redis.call('ZREM', KEYS[6], ARGV[4])
  redis.call('ZREM', KEYS[8], ARGV[4])
  return {1, credited, 1, held, nheld}
end
redis.call('HSET', KEYS[1], 'cursor', cursor)
return {1, credited, 0, held, nheld}
