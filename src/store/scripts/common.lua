-- Helpers prepended to every script of the store (see scripts.rs).

-- Whether `id` is in the pending list of `group` on `stream`. A missing stream or
-- group has nothing pending.
local function is_pending(stream, group, id)
  local p = redis.pcall('XPENDING', stream, group, id, id, 1)
  return type(p) == 'table' and p.err == nil and #p > 0
end

-- Server time in milliseconds: scripts are replicated by effects, so reading the
-- clock here is safe.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- An integer as a decimal string, never in exponent form.
local function num(n)
  return string.format('%.0f', n)
end

-- A timer member is `<seq, 20 digits>\n<target stream suffix>\n<raw envelope>`: the
-- zero-padded sequence makes members unique and orders timers due at the same
-- millisecond by scheduling order.
local function add_timer(timers, seq_key, due, suffix, raw)
  local seq = redis.call('INCR', seq_key)
  redis.call('ZADD', timers, due, string.format('%020d', seq) .. '\n' .. suffix .. '\n' .. raw)
end

-- Stream ids as comparable pairs; returns the smaller id, treating nil as +inf.
local function min_id(a, b)
  if a == nil then return b end
  if b == nil then return a end
  local ams, aseq = string.match(a, '^(%d+)-(%d+)$')
  local bms, bseq = string.match(b, '^(%d+)-(%d+)$')
  ams, aseq, bms, bseq = tonumber(ams), tonumber(aseq), tonumber(bms), tonumber(bseq)
  if ams < bms or (ams == bms and aseq <= bseq) then return a end
  return b
end
