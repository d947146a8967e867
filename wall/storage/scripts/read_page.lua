-- Reads a slice of a wall's stream with the current state of each post it
-- names, in one round trip; for a join also the pinned posts and settings.
-- KEYS: 1 posts stream, 2 state, 3 pinned, 4 meta
-- ARGV: 1 'back' (newest first) or 'forward', 2 start, 3 end, 4 count,
--       5 '1' to add the extras
-- Returns {entries, extras}: entries are {id, fields, state or false},
-- extras {pinned entries, settings (flat)} or false.
local function with_state(entries)
  for i, entry in ipairs(entries) do
    local flat, target = entry[2], entry[1]
    for j = 1, #flat, 2 do
      if flat[j] == 'p' then target = flat[j + 1] end
    end
    entries[i] = {entry[1], flat, redis.call('HGET', KEYS[2], target)}
  end
  return entries
end
local entries
if ARGV[1] == 'back' then
  entries = redis.call('XREVRANGE', KEYS[1], ARGV[2], ARGV[3], 'COUNT', ARGV[4])
else
  entries = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[3], 'COUNT', ARGV[4])
end
local extras = false
if ARGV[5] == '1' then
  local pins = {}
  for _, pid in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
    local found = redis.call('XRANGE', KEYS[1], pid, pid)
    if #found > 0 then pins[#pins + 1] = found[1] end
  end
  extras = {with_state(pins), redis.call('HGETALL', KEYS[4])}
end
return {with_state(entries), extras}
