-- fivedVoidRefund: refund the next chunk of users of a void period (each user's whole gross stake).
-- The journal cursor (meta.vcursor, a byte offset into the users string) advances in the same
-- script as the refunds, so every user is refunded exactly once whatever crashes in between.
-- KEYS: 1 meta, 2 users (string of '\n'-terminated ids), 3 ustake, 4 wallet balances, 5 wallet totals,
--       6 unfinished zset
-- ARGV: 1 chunk size in bytes of the users string (>= 130: one whole id at least), 2 period member
-- returns: {1, refunded, done(0|1)} | {0, 0, 1} nothing left (already refunded, or not void)
local m = redis.call('HMGET', KEYS[1], 'void', 'vcursor', 'refunded')
if not m[1] or m[3] then return {0, 0, 1} end
local cursor = tonumber(m[2] or '0')
local len = redis.call('STRLEN', KEYS[2])
local refunded = 0
if cursor < len then
  local text = redis.call('GETRANGE', KEYS[2], cursor, cursor + tonumber(ARGV[1]) - 1)
  local ids = {}
  local consumed = 0
  for id in string.gmatch(text, '([^\n]*)\n') do
    ids[#ids + 1] = id
    consumed = consumed + #id + 1
  end
  if #ids > 0 then
    local stakes = redis.call('HMGET', KEYS[3], unpack(ids))
    for k = 1, #ids do
      local s = tonumber(stakes[k] or '0')
      if s > 0 then
        redis.call('HINCRBY', KEYS[4], ids[k], stakes[k])
        refunded = refunded + s
      end
    end
    redis.call('HINCRBY', KEYS[5], 'refunds', string.format('%.0f', refunded))
  end
  cursor = cursor + consumed
end
if cursor >= len then
  redis.call('HSET', KEYS[1], 'vcursor', cursor, 'refunded', '1')
  redis.call('ZREM', KEYS[6], ARGV[2])
  return {1, refunded, 1}
end
redis.call('HSET', KEYS[1], 'vcursor', cursor)
return {1, refunded, 0}
