-- Changes a wall's settings, bumps their version (the post script compares
-- it, so a post sent to any process afterwards sees the change) and tells
-- every reader on the wall's stream.
-- KEYS: 1 meta hash, 2 posts stream
-- ARGV: 1 public settings as JSON (for the stream entry), then field, value pairs
-- Returns the new version.
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
local version = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('XADD', KEYS[2], '*', 't', 'settings', 'j', ARGV[1])
return version
