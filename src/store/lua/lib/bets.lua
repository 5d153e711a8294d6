-- lib/bets.lua: bet placement, included (not registered) by bet_batch.lua via `--!include bets`.
-- The one place of the per-bet rules. A batch is placed in three steps:
--   bets_open   reads the period's state once (meta, bet count, the batch users' stake, balance and
--               index, the net totals when a liability cap is set) into a Lua table;
--   bets_place  decides one bet against that table and, if accepted, updates the table only;
--   bets_write  writes everything the accepted bets changed, with one command per key (per
--               distinct pattern for the totals, per distinct user for the user's bet list).
-- A rejected bet changes nothing (not even the table), later bets of the batch see the earlier
-- accepted ones (idempotency, user limit, liability, funds), and the whole batch runs inside one
-- script, so it is atomic like a single bet was. Amounts and totals stay exact as Lua numbers
-- (doubles): every value is an integer below 2^53 (validateAmount caps a stake, FIVED_MAX_BALANCE
-- a balance; a stored balance beyond 2^53-1 is refused, -31, never rounded). Numbers are
-- written with '%d' (an integer conversion): tostring / '%.0f' go through the slow float printer,
-- and Lua's tostring turns 1e12 into '1e+12'.
--
-- Every accepted bet's stake is a ledger entry (lib/ledger.lua, issue 14), ref `${periodMember}:${seq}`,
-- written by bets_write with the rest: one RPUSH per distinct user (after their pending payouts and
-- refunds, if any), one XADD for the batch.
--
-- K: { meta, recs, users, uidx, gross, net, ustake, idem, balances, totals, unfinished, lseq, lfeed, lpend }
-- limits: { maxUser, cap, maxBets (0 = no cap), pay, member, feedKeep, userTtl, userKeep }
-- users: ids of the distinct users of the batch; ukeys[u] = { their bet list in the period, their
-- periods zset, their ledger list }
-- fields: per bet (in batch order) its field of the idempotency hash, userId .. '\n' .. clientBetId
-- entry: seq|pattern|amount|placedAt|balance (the same text MemoryStore keeps)

local function bets_open(K, users, fields, limits, ukeys)
  local st = { K = K, users = users, fields = fields, limits = limits }
  st.meta = redis.call('HMGET', K.meta, 'commitment', 'void', 'frozen', 'startsAt', 'freezeAt', 'endsAt')
  if st.meta[1] then -- the window, as numbers once (a committed period has it)
    st.startsAt, st.freezeAt, st.endsAt = tonumber(st.meta[4]), tonumber(st.meta[5]), tonumber(st.meta[6])
  end
  -- The store's own clock also closes betting (docs/design.md rule 4: the store decides, whatever a
  -- caller's clock says): a gateway running behind, within the allowed skew, must not get a bet
  -- in after the freeze just because no freeze timer has set the flag yet.
  local t = redis.call('TIME')
  st.storeNow = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  st.L = ledger_open(K.lseq, K.lfeed, st.storeNow)
  st.lz = {} -- per user: the texts of their new ledger entries
  st.base = redis.call('STRLEN', K.recs) / 16
  st.count = 0
  st.idem = redis.call('HMGET', K.idem, unpack(fields)) -- stored entries, by bet position
  st.fresh = {}   -- field -> entry of a bet accepted earlier in this batch
  st.stake, st.bal, st.ui = {}, {}, {}
  local s = redis.call('HMGET', K.ustake, unpack(users))
  local b = redis.call('HMGET', K.balances, unpack(users))
  local x = redis.call('HMGET', K.uidx, unpack(users))
  for u = 1, #users do
    st.stake[u] = tonumber(s[u] or '0')
    st.bal[u] = balance_of(b[u]) -- nil: not a balance fived wrote (-31 at the user's bet)
    st.ui[u] = x[u] and tonumber(x[u]) or nil
  end
  -- bets each user already has in the period (their clientBetId list), when the count is capped
  st.nbets = {}
  if limits.maxBets > 0 then
    for u = 1, #users do st.nbets[u] = redis.call('LLEN', ukeys[u][1]) end
  end
  st.nusers = nil -- HLEN uidx, read when the batch brings a user new to the period
  if limits.cap > 0 then
    local f = {}
    for i = 0, 73 do f[i + 1] = tostring(i) end
    local raw = redis.call('HMGET', K.net, unpack(f))
    st.net = {}
    for i = 1, 74 do st.net[i] = tonumber(raw[i] or '0') end
  end
  -- what bets_write writes
  st.recs, st.entries, st.newusers, st.stakes = {}, {}, {}, 0
  st.gross, st.netadd, st.patterns = {}, {}, {}
  st.ubets, st.touched, st.first = {}, {}, {}
  return st
end

-- returns status, seq, placedAt, balance: 1 accepted, 2 duplicate (the first ack), < 0 refused
-- (-1 void, -2 not committed, -3 frozen, -4 not open, -5 closed, -6 user limit, -7 liability,
-- -8 insufficient funds, -9 duplicate conflict, -24 too many bets of the user in the period,
-- -31 stored balance out of the exact range)
local function bets_place(st, i, u, cbid, pattern, amount, net, now)
  local field = st.fields[i]
  local prev = st.fresh[field] or st.idem[i]
  if prev then
    local seq, pat, amt, at, bal = string.match(prev, '^(%d+)|(%d+)|(%d+)|(%d+)|(%-?%d+)$')
    if tonumber(pat) ~= pattern or tonumber(amt) ~= amount then return -9 end
    return 2, tonumber(seq), tonumber(at), tonumber(bal)
  end
  local m = st.meta
  if m[2] then return -1 end
  if not m[1] then return -2 end
  if m[3] then return -3 end
  if now < st.startsAt then return -4 end
  if now >= st.endsAt then return -5 end
  if now >= st.freezeAt or st.storeNow >= st.freezeAt then return -3 end
  if st.limits.maxBets > 0 and st.nbets[u] >= st.limits.maxBets then return -24 end
  if st.stake[u] + amount > st.limits.maxUser then return -6 end
  if st.limits.cap > 0 then
    st.net[pattern + 1] = st.net[pattern + 1] + net
    if liability_bound(st.net, st.limits.pay) > st.limits.cap then
      st.net[pattern + 1] = st.net[pattern + 1] - net
      return -7
    end
  end
  -- a stored balance fived did not write (beyond 2^53-1, a fraction, an exponent: edited outside
  -- fived) is refused rather than written back rounded or failing a HINCRBY half-way
  if st.bal[u] == nil then return -31 end
  if st.bal[u] < amount then return -8 end

  -- accepted: from here on only the batch table changes; bets_write stores it
  local ui = st.ui[u]
  if not ui then
    if not st.nusers then st.nusers = redis.call('HLEN', st.K.uidx) end
    ui = st.nusers
    st.nusers = ui + 1
    st.ui[u] = ui
    st.first[u] = true
    st.newusers[#st.newusers + 1] = u
  end
  local seq = st.base + st.count
  st.count = st.count + 1
  st.recs[st.count] = struct.pack('<I4BBHd', ui, pattern, 0, 0, amount)
  if not st.gross[pattern] then
    st.gross[pattern], st.netadd[pattern] = 0, 0
    st.patterns[#st.patterns + 1] = pattern
  end
  st.gross[pattern] = st.gross[pattern] + amount
  st.netadd[pattern] = st.netadd[pattern] + net
  st.stake[u] = st.stake[u] + amount
  if st.limits.maxBets > 0 then st.nbets[u] = st.nbets[u] + 1 end
  st.bal[u] = st.bal[u] - amount
  st.stakes = st.stakes + amount
  local entry = string.format('%d|%d|%d|%d|%d', seq, pattern, amount, now, st.bal[u])
  st.fresh[field] = entry
  local n = #st.entries
  st.entries[n + 1], st.entries[n + 2] = field, entry
  if not st.ubets[u] then
    st.ubets[u] = {}
    st.touched[#st.touched + 1] = u
  end
  local l = st.ubets[u]
  l[#l + 1] = cbid
  local _, ltext = ledger_add(st.L, st.users[u], 's', -amount, st.bal[u], st.limits.member .. ':' .. seq)
  local z = st.lz[u]
  if not z then z = {}; st.lz[u] = z end
  z[#z + 1] = ltext
  return 1, seq, now, st.bal[u]
end

-- writes the accepted bets; returns the wallet's stakes total (0 when nothing was accepted)
local function bets_write(st, ukeys, member, ttl)
  if st.count == 0 then return 0 end
  local K = st.K
  redis.call('APPEND', K.recs, table.concat(st.recs))
  if #st.newusers > 0 then
    local ids, pairs_ = {}, {}
    for j, u in ipairs(st.newusers) do
      ids[j] = st.users[u] .. '\n'
      pairs_[2 * j - 1], pairs_[2 * j] = st.users[u], string.format('%d', st.ui[u])
    end
    redis.call('APPEND', K.users, table.concat(ids))
    redis.call('HSET', K.uidx, unpack(pairs_))
  end
  for _, p in ipairs(st.patterns) do
    local f = string.format('%d', p)
    redis.call('HINCRBY', K.gross, f, string.format('%d', st.gross[p]))
    redis.call('HINCRBY', K.net, f, string.format('%d', st.netadd[p]))
  end
  local sp, bp = {}, {}
  for j, u in ipairs(st.touched) do
    local user = st.users[u]
    sp[2 * j - 1], sp[2 * j] = user, string.format('%d', st.stake[u])
    bp[2 * j - 1], bp[2 * j] = user, string.format('%d', st.bal[u])
  end
  redis.call('HSET', K.ustake, unpack(sp))
  redis.call('HSET', K.balances, unpack(bp))
  -- stakes only grows: after a reconnect, a smaller value means Redis came back with older data
  local stakes = redis.call('HINCRBY', K.totals, 'stakes', string.format('%d', st.stakes))
  redis.call('HSET', K.idem, unpack(st.entries))
  -- the touched users' pending ledger entries (payouts, refunds) go into their lists first
  local tu = {}
  for j, u in ipairs(st.touched) do tu[j] = st.users[u] end
  local pend = redis.call('HMGET', K.lpend, unpack(tu))
  local flushed = {}
  -- TTLs are set when a key is created (first records, a user's first bet, a user's first period)
  for j, u in ipairs(st.touched) do
    local l = st.ubets[u]
    if redis.call('RPUSH', ukeys[u][1], unpack(l)) == #l then redis.call('EXPIRE', ukeys[u][1], ttl) end
    if st.first[u] then
      redis.call('ZADD', ukeys[u][2], st.meta[6], member)
      redis.call('EXPIRE', ukeys[u][2], ttl)
    end
    local z = st.lz[u]
    if pend[j] then -- rare: older than the stakes, so they go first
      local p = {}
      ledger_flush(pend[j], p)
      for _, x in ipairs(z) do p[#p + 1] = x end
      z = p
      flushed[#flushed + 1] = tu[j]
    end
    ledger_user(ukeys[u][3], st.limits.userTtl, st.limits.userKeep, z)
  end
  if #flushed > 0 then redis.call('HDEL', K.lpend, unpack(flushed)) end
  ledger_close(st.L, st.limits.feedKeep)
  if st.base == 0 then
    for _, k in ipairs({ K.recs, K.users, K.uidx, K.gross, K.net, K.ustake, K.idem }) do redis.call('EXPIRE', k, ttl) end
    -- the period's first bet: it now owes a settlement (or a refund) until settle_apply or void_refund finishes
    redis.call('ZADD', K.unfinished, st.meta[6], member)
  end
  return stakes
end
