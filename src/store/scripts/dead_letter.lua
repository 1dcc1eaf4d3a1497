-- Move a pending entry to the DLQ with its delivery count and reason, and
-- acknowledge it.
-- KEYS: 1 stream, 2 dlq
-- ARGV: 1 group, 2 entry id, 3 origin stream suffix, 4 reason, 5 at ms
-- Returns {1, dlq id}, or {0} when the entry is not pending.
local p = redis.pcall('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if type(p) ~= 'table' or p.err or #p == 0 then
  return {0}
end
local raw = ''
local entry = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if #entry > 0 then
  local fields = entry[1][2]
  for j = 1, #fields, 2 do
    if fields[j] == 'e' then
      raw = fields[j + 1]
    end
  end
end
local id = redis.call('XADD', KEYS[2], '*', 'origin', ARGV[3], 'origin_id', ARGV[2], 'raw', raw,
  'deliveries', p[1][4], 'reason', ARGV[4], 'at', ARGV[5])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return {1, id}
