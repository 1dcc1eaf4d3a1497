-- Trim a partition's audit chain up to and including one entry, and make that entry the
-- chain's base, unless the base moved or the entry is not the one exported.
-- KEYS: 1 audit stream, 2 audit base
-- ARGV: 1 base seq as read ('0' when none), 2 stream id of the last entry to trim, 3 its seq,
--       4 its hash, 5 id of the key that signed the base, 6 the base's MAC
-- Returns the number of entries trimmed, or -1 when nothing was done.
if (redis.call('HGET', KEYS[2], 'seq') or '0') ~= ARGV[1] then
  return -1
end
local last = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if #last == 0 then
  return -1
end
local seq, hash = nil, nil
local fields = last[1][2]
for j = 1, #fields, 2 do
  if fields[j] == 'seq' then
    seq = fields[j + 1]
  elseif fields[j] == 'hash' then
    hash = fields[j + 1]
  end
end
if seq ~= ARGV[3] or hash ~= ARGV[4] then
  return -1
end
local ms, n = string.match(ARGV[2], '^(%d+)-(%d+)$')
local trimmed = redis.call('XTRIM', KEYS[1], 'MINID', ms .. '-' .. tostring(tonumber(n) + 1))
redis.call('HSET', KEYS[2], 'seq', ARGV[3], 'hash', ARGV[4], 'kid', ARGV[5], 'mac', ARGV[6])
return trimmed
