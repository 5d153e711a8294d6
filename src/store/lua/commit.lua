-- fivedCommit: create-if-absent a period's sealed seed and commitment (first writer wins).
-- The seed arrives sealed (AES-256-GCM, src/store/seal.ts): no field of the hash holds it in clear.
-- KEYS: 1 period meta hash
-- ARGV: 1 sealed seed (base64 ciphertext + tag), 2 commitment hex, 3 startsAt, 4 freezeAt, 5 endsAt,
--       6 caller now (ms), 7 ttl (s), 8 id of the key that sealed it, 9 GCM nonce (base64)
-- returns: {1, commitment} created | {0, commitment} already committed (the winner's) |
--          {-1} void | {-10} too late: the freeze has passed and no commitment (the period is marked void)
-- A period that has started without a commitment is opened late (issue 13, cold start): no bet can
-- predate its commitment (bets.lua refuses a period without one), so betting from now to the freeze
-- is as fair as a full period. The freeze is checked against the caller's clock and Redis TIME.
local m = redis.call('HMGET', KEYS[1], 'commitment', 'void')
if m[2] then return {-1} end
if m[1] then return {0, m[1]} end
local now = tonumber(ARGV[6])
if now >= tonumber(ARGV[3]) then
  local t = redis.call('TIME')
  local storeNow = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if now >= tonumber(ARGV[4]) or storeNow >= tonumber(ARGV[4]) then
    -- past its freeze without a commitment: it can never be shown fair; void it for everyone at once
    redis.call('HSET', KEYS[1], 'void', '1', 'reason', 'no commitment before the freeze',
      'startsAt', ARGV[3], 'freezeAt', ARGV[4], 'endsAt', ARGV[5], 'refunded', '1')
    redis.call('EXPIRE', KEYS[1], ARGV[7])
    return {-10}
  end
end
redis.call('HSET', KEYS[1], 'commitment', ARGV[2], 'sealedSeed', ARGV[1], 'seedKeyId', ARGV[8], 'seedIv', ARGV[9],
  'startsAt', ARGV[3], 'freezeAt', ARGV[4], 'endsAt', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[7])
return {1, ARGV[2]}
