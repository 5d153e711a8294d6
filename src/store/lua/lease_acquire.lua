-- fivedLeaseAcquire: take the scheduler lease if nobody holds it, with a new fencing epoch (INCR).
-- KEYS: 1 lease, 2 epoch
-- ARGV: 1 holder, 2 ttl (ms), 3 the highest epoch this process has seen (the epoch never restarts below it)
-- returns: {1, epoch, epochBefore} acquired | {0} held by someone
if redis.call('EXISTS', KEYS[1]) == 1 then return {0} end
local before = tonumber(redis.call('GET', KEYS[2]) or '0')
if before < tonumber(ARGV[3]) then redis.call('SET', KEYS[2], ARGV[3]) end
local e = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. e, 'PX', ARGV[2])
return {1, e, before}
