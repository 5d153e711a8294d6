-- fivedLiability: evaluates the Lua liability bound alone (tests compare it with the TS one).
-- KEYS: none
-- ARGV: 1..5 multipliers number, bigSmall, oddEven, sumBigSmall, sumOddEven; 6..79 the 74 net totals
-- returns: the bound as a string (exact integer formatting)
--!include liability
local pay = { tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]) }
local net = {}
for i = 1, 74 do net[i] = tonumber(ARGV[5 + i]) end
return string.format('%.0f', liability_bound(net, pay))
