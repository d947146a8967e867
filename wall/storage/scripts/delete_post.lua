-- A deletion removes the post and appends a tombstone to the same stream, so
-- it reaches every reader on the same ordered, resumable path as posts do.
-- KEYS: posts stream, trimmed hash; ARGV: post id, maxlen, wall
if redis.call('XDEL', KEYS[1], ARGV[1]) == 0 then
  return false
end
return append(KEYS[1], KEYS[2], ARGV[3], ARGV[2], {'d', ARGV[1]})
