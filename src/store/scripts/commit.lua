-- Commit one saga transition, all or nothing.
-- KEYS: 1 inbox, 2 state hash, 3 history stream, 4 audit stream, 5 audit head,
--       6 timers, 7 timer sequence, 8.. command stream of each command (in order)
-- ARGV: 1 group, 2 acked inbox id ('' for none), 3 expected ver, 4 state,
--       5 terminal ('0'/'1'), 6 saga key, 7 #history, 8 #audit, 9 #commands,
--       10 #timers, 11 audit head seq and 12 its hash the entries were signed after,
--       13 the entries' time, 14 the id of the key that signed them, then the history
--       entries, (data, MAC) per audit entry, commands, and (due, raw envelope) per timer
-- Returns {1, ver} committed, {2, current ver} conflict, {3} already acknowledged,
-- {4} the audit head is not the one the entries were signed after (nothing written).

local group, ack = ARGV[1], ARGV[2]
if ack ~= '' and not is_pending(KEYS[1], group, ack) then
  return {3}
end
local current = tonumber(redis.call('HGET', KEYS[2], 'ver') or '0')
if current ~= tonumber(ARGV[3]) then
  return {2, current}
end
local nh, na, nc, nt = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
-- The MACs are made outside (Redis cannot compute an HMAC) over the position and the link to
-- the previous entry, so they hold only as the successors of the head they were made after.
if na > 0 then
  local head = redis.call('HMGET', KEYS[5], 'seq', 'hash')
  if (head[1] or '0') ~= ARGV[11] or (head[2] or '') ~= ARGV[12] then
    return {4}
  end
end

local now = now_ms()
local ver = current + 1
redis.call('HSET', KEYS[2], 'ver', num(ver), 'state', ARGV[4], 'updated', num(now),
  'terminal', ARGV[5])

local i = 15
for _ = 1, nh do
  redis.call('XADD', KEYS[3], '*', 'h', ARGV[i])
  i = i + 1
end
if na > 0 then
  local seq, prev = tonumber(ARGV[11]), ARGV[12]
  for _ = 1, na do
    seq = seq + 1
    redis.call('XADD', KEYS[4], '*', 'seq', num(seq), 'prev', prev, 'at', ARGV[13],
      'key', ARGV[6], 'data', ARGV[i], 'hash', ARGV[i + 1], 'kid', ARGV[14])
    prev = ARGV[i + 1]
    i = i + 2
  end
  redis.call('HSET', KEYS[5], 'seq', num(seq), 'hash', prev)
end
for c = 1, nc do
  redis.call('XADD', KEYS[7 + c], '*', 'e', ARGV[i])
  i = i + 1
end
for _ = 1, nt do
  add_timer(KEYS[6], KEYS[7], ARGV[i], 'in', ARGV[i + 1])
  i = i + 2
end
if ack ~= '' then
  redis.call('XACK', KEYS[1], group, ack)
end
return {1, ver}
