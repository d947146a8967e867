-- Retention by posts, not entries: the wall keeps its newest `maxlen` posts
-- whatever else its stream holds (tombstones, moderation changes), so that
-- moderation never shrinks the history. Each post id is listed in `ids`;
-- once it holds about 100 more than `maxlen` (trimming in blocks, as
-- MAXLEN ~ does), the oldest go: their entries, and everything older in
-- the stream, and what the wall kept about them. `trimmed` remembers the
-- oldest id kept, so that readers behind it know they missed something.
-- Prepended to the scripts that add posts.

-- Lua's unpack() fails past a few thousand values (a lowered WALL_HISTORY
-- can drop many at once), so deletions go in chunks.
local function each_chunk(list, f)
  for i = 1, #list, 1000 do
    f(unpack(list, i, math.min(i + 999, #list)))
  end
end

-- A stream from before the ids list: list its posts once. Runs before the
-- new post is listed, or the list would never look empty.
local function list_posts(stream, ids)
  if redis.call('LLEN', ids) > 0 or redis.call('XLEN', stream) == 0 then
    return
  end
  local found = {}
  for _, entry in ipairs(redis.call('XRANGE', stream, '-', '+')) do
    local flat = entry[2]
    for i = 1, #flat, 2 do
      if flat[i] == 'u' then
        found[#found + 1] = entry[1]
        break
      end
    end
  end
  each_chunk(found, function(...) redis.call('RPUSH', ids, ...) end)
end

local function retain(stream, ids, trimmed, wall, maxlen, gone_keys)
  local count = redis.call('LLEN', ids)
  if count <= maxlen + 100 then
    return
  end
  local excess = count - maxlen
  local old = redis.call('LRANGE', ids, 0, excess - 1)
  redis.call('LTRIM', ids, excess, -1)
  local oldest = redis.call('LINDEX', ids, 0)
  redis.call('XTRIM', stream, 'MINID', oldest)
  redis.call('HSET', trimmed, wall, oldest)
  for _, key in ipairs(gone_keys) do
    local kind = redis.call('TYPE', key)['ok']
    if kind == 'hash' then
      each_chunk(old, function(...) redis.call('HDEL', key, ...) end)
    elseif kind == 'zset' then
      each_chunk(old, function(...) redis.call('ZREM', key, ...) end)
    end
  end
end
