-- fivedBetBatch: place N bets of ONE period, each all or nothing, in order; later bets see the
-- effects of earlier ones. Input was validated in TS (ids, kind/pick, amount, per-bet min/max),
-- so everything here depends on stored state. The rules are in lib/bets.lua.
-- KEYS: 1 meta, 2 recs (packed records), 3 users (string of '\n'-terminated ids), 4 uidx (hash),
--       5 gross (hash), 6 net (hash), 7 ustake (hash), 8 idem (hash), 9 wallet balances (hash),
--       10 wallet totals (hash), 11 unfinished periods (zset), 12 ledger seq, 13 ledger feed, 14 ledger
--       pending (hash); then per distinct user u = 1..U: 14 + 3u - 2 the user's clientBetIds in the
--       period (list), 14 + 3u - 1 the user's periods (zset), 14 + 3u the user's ledger (list)
-- ARGV: 1 max user stake per period, 2 max liability (0 = none), 3 period member, 4 ttl (s),
--       5..9 multipliers number, bigSmall, oddEven, sumBigSmall, sumOddEven, 10 max bets of a user
--       in the period (0 = none), 11 ledger feed keep, 12 user ledger ttl (s), 13 user ledger keep,
--       14 U, 15..14+U the distinct user ids, 15+U the bets' numbers packed '<HBddd' per bet (user 1..U,
--       pattern 0..73, gross amount, net amount after the fee, caller now in ms: binary, because
--       parsing text costs this Redis more than the bet itself), then the bets' clientBetIds
-- returns: { stakesTotal, then per bet: status, seq, placedAt, balance }
--          status 1 accepted | 2 duplicate (the first acknowledgement) | -1 void | -2 not committed |
--          -3 frozen | -4 not open | -5 closed | -6 user limit | -7 liability limit |
--          -8 insufficient funds | -9 duplicate conflict | -24 too many bets of the user |
--          -31 stored balance out of the exact range (seq, placedAt, balance 0 when < 0);
--          stakesTotal is the wallet's stakes counter after the batch (0 if nothing was accepted)
--!include liability
--!include ledger
--!include bets
local K = { meta = KEYS[1], recs = KEYS[2], users = KEYS[3], uidx = KEYS[4], gross = KEYS[5], net = KEYS[6],
  ustake = KEYS[7], idem = KEYS[8], balances = KEYS[9], totals = KEYS[10], unfinished = KEYS[11], lseq = KEYS[12], lfeed = KEYS[13], lpend = KEYS[14] }
local nu = tonumber(ARGV[14])
local users, ukeys = {}, {}
for u = 1, nu do
  users[u] = ARGV[14 + u]
  ukeys[u] = { KEYS[14 + 3 * u - 2], KEYS[14 + 3 * u - 1], KEYS[14 + 3 * u] }
end
local blob = ARGV[15 + nu]
local n = #ARGV - 15 - nu
local bu, bp, ba, bn, bw, bc, fields = {}, {}, {}, {}, {}, {}, {}
local pos = 1
for i = 1, n do
  bu[i], bp[i], ba[i], bn[i], bw[i], pos = struct.unpack('<HBddd', blob, pos)
  bc[i] = ARGV[15 + nu + i]
  fields[i] = users[bu[i]] .. '\n' .. bc[i]
end
local limits = { maxUser = tonumber(ARGV[1]), cap = tonumber(ARGV[2]), maxBets = tonumber(ARGV[10]),
  pay = { tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]) },
  member = ARGV[3], feedKeep = tonumber(ARGV[11]), userTtl = ARGV[12], userKeep = tonumber(ARGV[13]) }

local st = bets_open(K, users, fields, limits, ukeys)
local out = { 0 }
for i = 1, n do
  local status, seq, at, bal = bets_place(st, i, bu[i], bc[i], bp[i], ba[i], bn[i], bw[i])
  local j = 4 * i - 2
  out[j], out[j + 1], out[j + 2], out[j + 3] = status, seq or 0, at or 0, bal or 0
end
out[1] = bets_write(st, ukeys, ARGV[3], ARGV[4])
return out
