-- Put a dead letter back on its origin stream and drop it from the DLQ.
-- KEYS: 1 dlq, 2 origin stream
-- ARGV: 1 dead letter id, 2 raw envelope to append
-- Returns {1, new id}, or {0} when the dead letter is gone.
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then
  return {0}
end
local id = redis.call('XADD', KEYS[2], '*', 'e', ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[1])
return {1, id}
