-- Commit one saga transition, all or nothing.
-- KEYS: 1 inbox, 2 state hash, 3 history stream, 4 audit stream, 5 audit head,
--       6 timers, 7 timer sequence, 8.. command stream of each command (in order)
-- ARGV: 1 group, 2 acked inbox id ('' for none), 3 expected ver, 4 state,
--       5 terminal ('0'/'1'), 6 saga key, 7 #history, 8 #audit, 9 #commands,
--       10 #timers, then the history entries, audit entries, commands, and
--       (due, raw envelope) per timer
-- Returns {1, ver} committed, {2, current ver} conflict, {3} already acknowledged.

local function field(s)
  return #s .. ':' .. s
end

-- Each audit entry carries the hash of its predecessor, and its own hash covers
-- that link, so removing, reordering or editing an entry breaks the chain.
local function audit_append(stream, seq, prev, at, key, data)
  local s, a = num(seq), num(at)
  local hash = redis.sha1hex(field(s) .. field(prev) .. field(a) .. field(key) .. field(data))
  redis.call('XADD', stream, '*', 'seq', s, 'prev', prev, 'at', a, 'key', key, 'data', data,
    'hash', hash)
  return hash
end

local group, ack = ARGV[1], ARGV[2]
if ack ~= '' and not is_pending(KEYS[1], group, ack) then
  return {3}
end
local current = tonumber(redis.call('HGET', KEYS[2], 'ver') or '0')
if current ~= tonumber(ARGV[3]) then
  return {2, current}
end

local now = now_ms()
local ver = current + 1
redis.call('HSET', KEYS[2], 'ver', num(ver), 'state', ARGV[4], 'updated', num(now),
  'terminal', ARGV[5])

local nh, na, nc, nt = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local i = 11
for _ = 1, nh do
  redis.call('XADD', KEYS[3], '*', 'h', ARGV[i])
  i = i + 1
end
if na > 0 then
  local head = redis.call('HMGET', KEYS[5], 'seq', 'hash')
  local seq = tonumber(head[1] or '0')
  local prev = head[2] or ''
  for _ = 1, na do
    seq = seq + 1
    prev = audit_append(KEYS[4], seq, prev, now, ARGV[6], ARGV[i])
    i = i + 1
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
