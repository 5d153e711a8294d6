-- lib/ledger.lua: the wallet ledger (issue 14), included by every script that changes a balance
-- (credit, debit, bet_batch, settle_apply, void_refund) via `--!include ledger`, so an entry is
-- written in the same script, the same atomic step, as its change (docs/design.md rule 5).
-- Layout (src/store/keys.ts, docs/redis.md):
--   ledger:seq            the last entry number given (a store-wide sequence: commit order)
--   ledger:feed           stream, one stream entry per script call: id `${last entry number}-0`,
--                         field e = the call's entries, '\n'-separated (one XADD per call, not per
--                         entry: settlement writes thousands per call); trimmed with MINID ~ to the
--                         last `feed keep` entry numbers (the archiver copies it well before that)
--   ledger:user:{userId}  list of the entries' texts, oldest first (RPUSH: O(1); a zset cost more per
--                         bet); its TTL is set at creation and renewed every 32
--                         entries (ledger_user), and it keeps about `user keep` entries. Read by
--                         ledger_page.lua (binary search on the entry numbers)
--   ledger:pending        hash userId → the user's entries written by a settlement or a void refund
--                         and not yet in their zset ('\n'-separated, oldest first). Settlement writes
--                         thousands of users per call: one HMGET and one HSET per 1000 winners cost far
--                         less than a ZADD per winner. The next deposit, withdrawal or stake of the
--                         user moves them into the zset first (ledger_flush), so the pending entries
--                         are always newer than the list's: a reader takes pending, then the list.
-- Entry text: seq|at|k|amount|balance|ref|userId (k: d deposit, w withdrawal, s stake, p payout,
-- r refund; amount signed; balance after; the user id last: it may contain '|').

-- A stored balance as an exact number, or nil when its text is not one fived writes: digits, no
-- sign, no leading zero, at most 2^53-1. A hand edit such as '1000.5' or '1e3' reads as a number
-- in Lua but makes HINCRBY fail, and Redis does not undo a script's earlier writes when a later
-- command fails: each script checks every balance it will change with this before its first write
-- (docs/design.md rule 5). A missing balance is 0.
local function balance_of(text)
  if not text then return 0 end
  if text ~= '0' and not string.match(text, '^[1-9]%d*$') then return nil end
  local b = tonumber(text)
  if b > 9007199254740991 then return nil end
  return b
end

local function store_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function ledger_open(kseq, kfeed, at)
  return { kseq = kseq, kfeed = kfeed, base = tonumber(redis.call('GET', kseq) or '0'), n = 0, lines = {}, at = at }
end

-- one entry; returns its number and text (the caller adds them to the user's zset)
local function ledger_add(L, user, kind, amount, balance, ref)
  L.n = L.n + 1
  local seq = L.base + L.n
  local text = string.format('%d|%d|%s|%d|%d|%s|%s', seq, L.at, kind, amount, balance, ref, user)
  L.lines[L.n] = text
  return seq, text
end

-- the call's entries into the feed, and the sequence moved on; nothing when there were none
local function ledger_close(L, keep)
  if L.n == 0 then return end
  local last = L.base + L.n
  local id = string.format('%d', last)
  redis.call('SET', L.kseq, id)
  redis.call('XADD', L.kfeed, 'MINID', '~', string.format('%d', math.max(last - keep, 0)), id .. '-0', 'e', table.concat(L.lines, '\n'))
end

-- payouts or refunds of many users: appended to their pending entries (users distinct), in
-- HMGET/HSET of at most 1000
local function ledger_pend(kpend, ids, texts)
  for i = 1, #ids, 1000 do
    local j = math.min(i + 999, #ids)
    local cur = redis.call('HMGET', kpend, unpack(ids, i, j))
    local kv = {}
    for k = i, j do
      local c = cur[k - i + 1]
      kv[#kv + 1] = ids[k]
      kv[#kv + 1] = c and (c .. '\n' .. texts[k]) or texts[k]
    end
    redis.call('HSET', kpend, unpack(kv))
  end
end

-- a user's pending entries (text or nil) appended to the list of texts z
local function ledger_flush(text, z)
  if not text then return end
  for line in string.gmatch(text, '[^\n]+') do z[#z + 1] = line end
end

-- the user's list after a deposit, withdrawal or stakes: texts appended (the pending ones first,
-- see ledger_flush). Two calls saved on most bets, from the length RPUSH returns: the TTL is set
-- when the list is created and renewed each time it passes a multiple of 32 entries (not at every
-- write), and the oldest entries beyond `keep` are dropped once it holds 32 more than that.
local function ledger_user(key, ttl, keep, texts)
  local len = redis.call('RPUSH', key, unpack(texts))
  local was = len - #texts
  if was == 0 or math.floor(was / 32) ~= math.floor(len / 32) then redis.call('EXPIRE', key, ttl) end
  if len > keep + 32 then redis.call('LTRIM', key, -keep, -1) end
end
