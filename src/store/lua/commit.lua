-- fivedCommit: create-if-absent a period's sealed seed and commitment (first writer wins).
-- The seed arrives sealed (AES-256-GCM, src/store/seal.ts): no field of the hash holds it in clear.
-- KEYS: 1 period meta hash
-- ARGV: 1 sealed seed (base64 ciphertext + tag), 2 commitment hex, 3 startsAt, 4 freezeAt, 5 endsAt,
--       6 caller now (ms), 7 ttl (s), 8 id of the key that sealed it, 9 GCM nonce (base64)
-- returns: {1, commitment} created | {0, commitment} already committed (the winner's) |
--          {-1} void | {-10} too late: now >= startsAt and no commitment (the period is marked void)
local m = redis.call('HMGET', KEYS[1], 'commitment', 'void')
if m[2] then return {-1} end
if m[1] then return {0, m[1]} end
if tonumber(ARGV[6]) >= tonumber(ARGV[3]) then
  -- a period that opened without a commitment can never be fair: void it for everyone at once
  redis.call('HSET', KEYS[1], 'void', '1', 'reason', 'no commitment before the period opened',
    'startsAt', ARGV[3], 'freezeAt', ARGV[4], 'endsAt', ARGV[5], 'refunded', '1')
  redis.call('EXPIRE', KEYS[1], ARGV[7])
  return {-10}
end
redis.call('HSET', KEYS[1], 'commitment', ARGV[2], 'sealedSeed', ARGV[1], 'seedKeyId', ARGV[8], 'seedIv', ARGV[9],
  'startsAt', ARGV[3], 'freezeAt', ARGV[4], 'endsAt', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[7])
return {1, ARGV[2]}
