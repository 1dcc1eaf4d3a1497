-- Drop acknowledged entries: only ids older than both the oldest pending entry and
-- the first entry not yet delivered to the group, keeping the newest `keep`.
-- KEYS: 1 stream
-- ARGV: 1 group, 2 keep
-- Returns how many entries were removed.
local keep = tonumber(ARGV[2])
if redis.call('XLEN', KEYS[1]) <= keep then
  return 0
end
local groups = redis.pcall('XINFO', 'GROUPS', KEYS[1])
if groups.err then
  return 0
end
local last_delivered = nil
for _, g in ipairs(groups) do
  local name, ldi = nil, nil
  for j = 1, #g, 2 do
    if g[j] == 'name' then
      name = g[j + 1]
    elseif g[j] == 'last-delivered-id' then
      ldi = g[j + 1]
    end
  end
  if name == ARGV[1] then
    last_delivered = ldi
  end
end
if last_delivered == nil then
  -- No group: nothing was consumed yet, so every entry is still to come.
  return 0
end

-- Exclusive upper bound of the removable ids; nil means every entry.
local bound = nil
local next_entry = redis.call('XRANGE', KEYS[1], '(' .. last_delivered, '+', 'COUNT', 1)
if #next_entry > 0 then
  bound = next_entry[1][1]
end
local summary = redis.call('XPENDING', KEYS[1], ARGV[1])
if summary[1] > 0 then
  bound = min_id(bound, summary[2])
end
if keep > 0 then
  local kept = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', keep)
  bound = min_id(bound, kept[#kept][1])
end
if bound == nil then
  return redis.call('XTRIM', KEYS[1], 'MAXLEN', 0)
end
return redis.call('XTRIM', KEYS[1], 'MINID', bound)
