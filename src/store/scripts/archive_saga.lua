-- Replace a finished saga's state with its compact form and drop its timeline, unless it moved
-- since it was read. The version goes up, so a live actor holding the old state reloads.
-- KEYS: 1 state hash, 2 history stream
-- ARGV: 1 version as read, 2 compact state (sealed)
-- Returns 1 when archived, 0 when the saga changed or is no longer finished.
local state = redis.call('HMGET', KEYS[1], 'ver', 'terminal')
if state[1] ~= ARGV[1] or state[2] ~= '1' then
  return 0
end
redis.call('HSET', KEYS[1], 'ver', tostring(tonumber(ARGV[1]) + 1), 'state', ARGV[2])
redis.call('DEL', KEYS[2])
return 1
