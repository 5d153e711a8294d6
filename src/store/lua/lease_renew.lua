-- fivedLeaseRenew: extend the lease if this holder and epoch still hold it. A lapsed lease that
-- nobody took since (the epoch is unchanged) is taken back.
-- KEYS: 1 lease, 2 epoch
-- ARGV: 1 `${holder}|${epoch}`, 2 ttl (ms), 3 epoch
-- returns: 1 renewed | 0 lost
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not cur and redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
