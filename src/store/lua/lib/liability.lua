-- lib/liability.lua: included (not registered) by scripts whose source holds `--!include liability`.
-- Port of liabilityUpperBound (src/core/rules.ts); test/store-liability.test.ts checks they agree.
--   net: 1-based table of the 74 per-pattern net stakes (pattern p at net[p + 1])
--   pay: { number, bigSmall, oddEven, sumBigSmall, sumOddEven }
-- returns: an upper bound of the maximum payout over all 100,000 outcomes
local function liability_bound(net, pay)
  local bound = 0
  for pos = 0, 4 do
    local b = pos * 14 + 1
    local best = 0
    for d = 0, 9 do
      local bs, oe
      if d >= 5 then bs = net[b + 10] else bs = net[b + 11] end
      if d % 2 == 1 then oe = net[b + 12] else oe = net[b + 13] end
      local v = net[b + d] * pay[1] + bs * pay[2] + oe * pay[3]
      if v > best then best = v end
    end
    bound = bound + best
  end
  return bound + math.max(net[71], net[72]) * pay[4] + math.max(net[73], net[74]) * pay[5]
end
