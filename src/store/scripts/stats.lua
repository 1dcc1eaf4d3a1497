-- Length, pending count and age of the oldest pending entry (from its id).
-- KEYS: 1 stream
-- ARGV: 1 group
-- Returns {length, pending, oldest pending age ms}.
local len = redis.call('XLEN', KEYS[1])
local s = redis.pcall('XPENDING', KEYS[1], ARGV[1])
if type(s) ~= 'table' or s.err or s[1] == 0 then
  return {len, 0, 0}
end
local age = now_ms() - tonumber(string.match(s[2], '^(%d+)'))
if age < 0 then
  age = 0
end
return {len, s[1], age}
