-- Finish a command: append its results to the inbox and acknowledge it. Writes
-- nothing when the command is no longer pending (another consumer finished it).
-- KEYS: 1 command stream, 2 inbox
-- ARGV: 1 group, 2 entry id, 3.. raw result envelopes
-- Returns 1 when written, 0 when not pending.
if not is_pending(KEYS[1], ARGV[1], ARGV[2]) then
  return 0
end
for i = 3, #ARGV do
  redis.call('XADD', KEYS[2], '*', 'e', ARGV[i])
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return 1
