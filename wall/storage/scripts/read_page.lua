-- Reads a slice of a wall's stream with the current state of each post it
-- names, in one round trip; for a join also the pinned posts and settings.
-- KEYS: 1 posts stream, 2 state, 3 pinned, 4 meta, 5 post ids list
-- ARGV: 1 'back' (visible posts, newest first) or 'forward' (every entry,
--       oldest first), 2 start, 3 end, 4 count, 5 '1' to add the extras
-- Returns {entries, extras, cursor, newest}: entries are {id, fields, state
-- or false}; extras {pinned entries, settings (flat)} or false; cursor the
-- id to go on from (exclusive) when more may remain, else false; newest the
-- newest entry of the stream when reading back from '+', else false.
--
-- Reading back walks the ids list, not the stream: a join costs the posts
-- it shows, however many moderation and likes entries lie between them.
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

local function id_parts(id)
  local ms, seq = string.match(id, '^(%d+)-?(%d*)$')
  return tonumber(ms) or 0, tonumber(seq) or 0
end

local function before(a, b, inclusive)
  local am, as = id_parts(a)
  local bm, bs = id_parts(b)
  if am ~= bm then return am < bm end
  if inclusive then return as <= bs end
  return as < bs
end

-- the index (0-based) of the newest listed id at or before `bound`
-- ('+', '<id>' or '(<id>'), or -1
local function last_at_or_before(ids, n, bound)
  if bound == '+' then return n - 1 end
  local inclusive = string.sub(bound, 1, 1) ~= '('
  if not inclusive then bound = string.sub(bound, 2) end
  local lo, hi = 0, n - 1
  local found = -1
  while lo <= hi do
    local mid = math.floor((lo + hi) / 2)
    if before(redis.call('LINDEX', ids, mid), bound, inclusive) then
      found, lo = mid, mid + 1
    else
      hi = mid - 1
    end
  end
  return found
end

local function is_visible(flat, state)
  if state then return string.sub(state, 1, 8) == 'visible,' end
  for j = 1, #flat, 2 do
    if flat[j] == 's' then return flat[j + 1] ~= 'p' end
  end
  return true
end

local function visible_back(start, count)
  local ids = KEYS[5]
  local n = redis.call('LLEN', ids)
  local at = last_at_or_before(ids, n, start)
  -- a bounded walk per call (hidden, pending and deleted posts cost too)
  local entries, budget, cursor = {}, 4 * count + 100, false
  while at >= 0 do
    if #entries == count or budget == 0 then
      cursor = redis.call('LINDEX', ids, at + 1)  -- the last one looked at
      break
    end
    budget = budget - 1
    local pid = redis.call('LINDEX', ids, at)
    local found = redis.call('XRANGE', KEYS[1], pid, pid)
    if #found > 0 then
      local state = redis.call('HGET', KEYS[2], pid)
      if is_visible(found[1][2], state) then
        entries[#entries + 1] = {pid, found[1][2], state}
      end
    end
    at = at - 1
  end
  return entries, cursor
end

-- Exclusive bounds past either end of the id space: Redis refuses such a
-- range ('invalid start/end ID for the interval') where nothing is to read.
local BEFORE_FIRST, AFTER_LAST = '(0-0', '(18446744073709551615-18446744073709551615'

local direction, start, stop, count = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local entries, cursor, newest = nil, false, false
if direction == 'back' then
  if start == '+' then
    local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
    if #last > 0 then newest = last[1][1] end
  end
  if start == BEFORE_FIRST then
    entries = {}
  elseif redis.call('LLEN', KEYS[5]) > 0 then
    entries, cursor = visible_back(start, count)
  else
    -- a stream from before the ids list: walk its entries
    entries = with_state(redis.call('XREVRANGE', KEYS[1], start, stop, 'COUNT', count))
    if #entries == count then cursor = entries[#entries][1] end
  end
elseif start == AFTER_LAST then
  entries = {}
else
  entries = with_state(redis.call('XRANGE', KEYS[1], start, stop, 'COUNT', count))
  if #entries == count then cursor = entries[#entries][1] end
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
return {entries, extras, cursor, newest}
