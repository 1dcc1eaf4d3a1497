-- Take over entries idle for at least min-idle, oldest first, with their
-- delivery counts (which XAUTOCLAIM has just incremented).
-- KEYS: 1 stream
-- ARGV: 1 group, 2 consumer, 3 min idle ms, 4 count
-- Returns {{id, {field, value, ...}, deliveries}, ...}.
local want = tonumber(ARGV[4])
local out = {}
local cursor = '0-0'
-- One XAUTOCLAIM looks at a bounded slice of the pending list; go on until enough
-- entries are claimed or the whole list was scanned.
repeat
  local claimed = redis.pcall('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], cursor,
    'COUNT', want - #out)
  if claimed.err then
    if string.find(claimed.err, 'NOGROUP', 1, true) then
      return {}
    end
    return redis.error_reply(claimed.err)
  end
  cursor = claimed[1]
  for _, entry in ipairs(claimed[2]) do
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], entry[1], entry[1], 1)
    if #p > 0 then
      table.insert(out, {entry[1], entry[2], p[1][4]})
    end
  end
until cursor == '0-0' or #out >= want
return out
