-- Move due timers into their target streams of the same partition.
-- KEYS: 1 timers
-- ARGV: 1 now ms, 2 limit, 3 key prefix of the partition (`<prefix>:{s<p>}:`)
-- Returns how many fired.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do
  local a = string.find(member, '\n', 1, true)
  local b = string.find(member, '\n', a + 1, true)
  redis.call('XADD', ARGV[3] .. string.sub(member, a + 1, b - 1), '*', 'e', string.sub(member, b + 1))
  redis.call('ZREM', KEYS[1], member)
end
return #due
