-- Acquire the partition lease when free, renew it when ours.
-- KEYS: 1 lease
-- ARGV: 1 node, 2 ttl ms
-- Returns 1 when the node holds the lease afterwards, else 0.
local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
