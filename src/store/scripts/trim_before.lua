-- Drop a stream's entries up to and including one id, unless that entry is gone (another run
-- trimmed it first).
-- KEYS: 1 stream
-- ARGV: 1 stream id of the last entry to drop
-- Returns the number of entries dropped, or -1 when nothing was done.
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then
  return -1
end
local ms, n = string.match(ARGV[1], '^(%d+)-(%d+)$')
return redis.call('XTRIM', KEYS[1], 'MINID', ms .. '-' .. tostring(tonumber(n) + 1))
