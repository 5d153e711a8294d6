-- fivedClaim: claim the computing of a period's fallback settlement (one claimant at a time).
-- Re-entrant: the holder may claim again (and so retry after its own failure) and extends the
-- claim; anyone else waits until it expires. The claim only saves duplicate work: saving the plan
-- (first plan wins) and applying it (journaled) are exactly-once whoever computes.
-- KEYS: 1 the period's claim key
-- ARGV: 1 claimant, 2 ttl (ms)
-- returns: 1 claimed (or still ours) | 0 held by someone else
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
