-- A deletion removes the post and appends a tombstone to the same stream, so
-- it reaches every reader on the same ordered, resumable path as posts do.
-- KEYS: 1 posts stream, 2 state, 3 pending, 4 hidden, 5 pinned, 6 authors,
--       7 popular, 8 the post's likers, 9 the wall's posts with new likes
-- ARGV: 1 post id
-- Returns the tombstone's id, or false if there was no such post.
local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #found == 0 then
  return false
end
local is_post = false
local flat = found[1][2]
for i = 1, #flat, 2 do
  if flat[i] == 'u' then is_post = true end
end
if not is_post then
  return false
end
redis.call('XDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('HDEL', KEYS[6], ARGV[1])
redis.call('ZREM', KEYS[7], ARGV[1])
redis.call('DEL', KEYS[8])
redis.call('SREM', KEYS[9], ARGV[1])
return redis.call('XADD', KEYS[1], '*', 'd', ARGV[1])
