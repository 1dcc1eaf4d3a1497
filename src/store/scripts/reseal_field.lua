-- Replace a hash field's sealed value with the same value sealed under the current key, unless
-- it changed since it was read (a writer got there first: its value is the newer one).
-- KEYS: 1 hash
-- ARGV: 1 field, 2 value as read, 3 value re-sealed
-- Returns 1 when replaced, 0 when the field changed meanwhile.
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
