-- lib/ledger.lua: the wallet ledger (issue 14), included by every script that changes a balance
-- (credit, debit, bet_batch, settle_apply, void_refund) via `--!include ledger`, so an entry is
-- written in the same script, the same atomic step, as its change (docs/design.md rule 5).
-- Layout (src/store/keys.ts, docs/redis.md):
--   ledger:seq            the last entry number given (a store-wide sequence: commit order)
--   ledger:feed           stream, one stream entry per script call: id `${last entry number}-0`,
--                         field e = the call's entries, '\n'-separated (one XADD per call, not per
--                         entry: settlement writes thousands per call); trimmed with MINID ~ to the
--                         last `feed keep` entry numbers (the archiver copies it well before that)
--   ledger:user:{userId}  zset, score = entry number, member = the entry's text; its TTL is renewed
--                         by the user's deposits, withdrawals and stakes, and it keeps at most
--                         `user keep` entries
--   ledger:pending        hash userId → the user's entries written by a settlement or a void refund
--                         and not yet in their zset ('\n'-separated, oldest first). Settlement writes
--                         thousands of users per call: one HMGET and one HSET per 1000 winners cost far
--                         less than a ZADD per winner. The next deposit, withdrawal or stake of the
--                         user moves them into the zset first (ledger_flush), so the pending entries
--                         are always newer than the zset's: a reader takes pending, then the zset.
-- Entry text: seq|at|k|amount|balance|ref|userId (k: d deposit, w withdrawal, s stake, p payout,
-- r refund; amount signed; balance after; the user id last: it may contain '|').

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

-- a user's pending entries (text or nil) as score, member pairs appended to z
local function ledger_flush(text, z)
  if not text then return end
  for line in string.gmatch(text, '[^\n]+') do
    z[#z + 1] = tonumber(string.match(line, '^(%d+)|'))
    z[#z + 1] = line
  end
end

-- the user's zset after a deposit, withdrawal or stakes: entries added (score, member pairs: the
-- pending ones first, see ledger_flush), TTL renewed, and the oldest beyond `keep` dropped — only
-- when one of the new entry numbers is a multiple of 32 (a call saved on most bets: a zset holds
-- `keep` plus a few dozen entries at most, in practice)
local function ledger_user(key, ttl, keep, pairs_)
  redis.call('ZADD', key, unpack(pairs_))
  redis.call('EXPIRE', key, ttl)
  for i = 1, #pairs_, 2 do
    if pairs_[i] % 32 == 0 then
      redis.call('ZREMRANGEBYRANK', key, 0, -(keep + 1))
      return
    end
  end
end
