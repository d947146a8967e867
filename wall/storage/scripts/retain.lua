-- Retention by posts, not entries: the wall keeps its newest `maxlen` posts
-- whatever else its stream holds (tombstones, moderation changes), so that
-- moderation never shrinks the history. Each post id is listed in `ids`;
-- once it holds about 100 more than `maxlen` (trimming in blocks, as
-- MAXLEN ~ does), the oldest go: their entries, and everything older in
-- the stream, and what the wall kept about them. `trimmed` remembers the
-- oldest id kept, so that readers behind it know they missed something.
-- Prepended to the scripts that add posts.
local function retain(stream, ids, trimmed, wall, maxlen, gone_keys)
  local count = redis.call('LLEN', ids)
  if count == 0 and redis.call('XLEN', stream) > 1 then
    -- a stream from before the ids list: list its posts once
    local all = redis.call('XRANGE', stream, '-', '+')
    for _, entry in ipairs(all) do
      local flat = entry[2]
      for i = 1, #flat, 2 do
        if flat[i] == 'u' then
          redis.call('RPUSH', ids, entry[1])
          break
        end
      end
    end
    count = redis.call('LLEN', ids)
  end
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
      redis.call('HDEL', key, unpack(old))
    elseif kind == 'zset' then
      redis.call('ZREM', key, unpack(old))
    end
  end
end
