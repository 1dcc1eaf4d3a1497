-- Append an input to the inbox unless its idempotency key was seen.
-- KEYS: 1 inbox, 2 dedupe key
-- ARGV: 1 raw envelope, 2 ledger TTL in ms
-- Returns {1, new id} or {0, id of the first ingest}.
local first = redis.call('GET', KEYS[2])
if first then
  return {0, first}
end
local id = redis.call('XADD', KEYS[1], '*', 'e', ARGV[1])
redis.call('SET', KEYS[2], id, 'PX', ARGV[2])
return {1, id}
