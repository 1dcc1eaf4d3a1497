-- Postpone an entry: schedule its replacement on a timer and acknowledge it.
-- Writes nothing when the entry is no longer pending.
-- KEYS: 1 stream, 2 timers, 3 timer sequence
-- ARGV: 1 group, 2 entry id, 3 due ms, 4 target stream suffix, 5 raw envelope
-- Returns 1 when written, 0 when not pending.
if not is_pending(KEYS[1], ARGV[1], ARGV[2]) then
  return 0
end
add_timer(KEYS[2], KEYS[3], ARGV[3], ARGV[4], ARGV[5])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return 1
