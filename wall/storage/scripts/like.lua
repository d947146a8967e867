-- One client likes (or stops liking) a visible post, once: its count, the
-- popular order, and a mark that the post changed, which a flush turns
-- into one stream entry for all the posts of the wall liked meanwhile
-- (scripts/flush_likes.lua): likes are coalesced, never one entry a click.
-- KEYS: 1 posts stream, 2 state, 3 the post's likers set, 4 popular zset,
--       5 the wall's changed posts set, 6 the set of walls with changes,
--       7 meta hash
-- ARGV: 1 'like' or 'unlike', 2 post id, 3 who, 4 the wall, 5 the settings
--       version the caller checked access against
-- Returns {1, likes, liked 0|1}, {0} for a post that is not visible, or
-- {-1} when the settings changed (the caller checks access again).
if (redis.call('HGET', KEYS[7], 'v') or '') ~= ARGV[5] then return {-1} end
local pid = ARGV[2]
local found = redis.call('XRANGE', KEYS[1], pid, pid)
if #found == 0 then return {0} end
local f = entry_fields(found[1][2])
if not f['u'] then return {0} end
local status, pin, rev, likes = read_state(KEYS[2], pid, f)
if status ~= 'visible' then return {0} end
local changed
if ARGV[1] == 'like' then
  changed = redis.call('SADD', KEYS[3], ARGV[3])
else
  changed = redis.call('SREM', KEYS[3], ARGV[3])
end
redis.call('EXPIRE', KEYS[3], 2592000)  -- a month after the last like
likes = redis.call('SCARD', KEYS[3])
if changed == 1 then
  rev = rev + 1
  write_state(KEYS[2], pid, status, pin, rev, likes)
  if likes > 0 then redis.call('ZADD', KEYS[4], likes, pid)
  else redis.call('ZREM', KEYS[4], pid) end
  redis.call('SADD', KEYS[5], pid)
  redis.call('SADD', KEYS[6], ARGV[4])
end
return {1, likes, redis.call('SISMEMBER', KEYS[3], ARGV[3])}
