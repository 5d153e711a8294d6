-- fivedLedgerPage: one user's ledger entries older than an entry number, newest first (issue 14;
-- lib/ledger.lua). Read-only; one script, so an entry moved from pending into the list meanwhile
-- is neither lost nor read twice. The list is in entry order (oldest first): binary search on the
-- entry numbers (LINDEX), then one LRANGE.
-- KEYS: 1 the user's ledger (list), 2 ledger pending (hash)
-- ARGV: 1 userId, 2 before (an entry number; '' = none), 3 count (at most this many from the list)
-- returns: { the user's pending entries ('\n'-separated, oldest first; '' = none; all newer than the
--            list's), the list's entries older than `before`, newest first }
local function seq_at(i)
  return tonumber(string.match(redis.call('LINDEX', KEYS[1], i), '^(%d+)|'))
end
local pending = redis.call('HGET', KEYS[2], ARGV[1])
local hi = redis.call('LLEN', KEYS[1]) -- entries [0, hi) are older than `before`
if ARGV[2] ~= '' then
  local b = tonumber(ARGV[2])
  local lo = 0
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if seq_at(mid) < b then lo = mid + 1 else hi = mid end
  end
end
local out = {}
if hi > 0 then
  local rows = redis.call('LRANGE', KEYS[1], math.max(0, hi - tonumber(ARGV[3])), hi - 1)
  for i = #rows, 1, -1 do out[#out + 1] = rows[i] end
end
return { pending or '', out }
