-- Replace a sorted-set member (a timer, its envelope's body sealed) with its re-sealed form at
-- the same score, unless it is gone (fired or cancelled meanwhile).
-- KEYS: 1 sorted set
-- ARGV: 1 member as read, 2 member re-sealed
-- Returns 1 when replaced, 0 when the member is gone.
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then
  return 0
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], score, ARGV[2])
return 1
