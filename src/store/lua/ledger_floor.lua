-- ledger_floor.lua: after a restore from an older backup the ledger's sequence can be below the
-- entry numbers an archive already holds; new entries would then reuse those numbers and the
-- archiver, resuming after its cursor, would never copy them. Raises the sequence (and the feed
-- stream's last id, which XADD must exceed) to the floor, atomically with every ledger write.
-- KEYS: ledger:seq, ledger:feed. ARGV: floor (an entry number).
-- Returns { the sequence before, 1 raised | 0 already at or above }.
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(ARGV[1])
if cur >= floor then return { string.format('%d', cur), 0 } end
local id = string.format('%d', floor)
redis.call('SET', KEYS[1], id)
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('XSETID', KEYS[2], id .. '-0') end
return { string.format('%d', cur), 1 }
