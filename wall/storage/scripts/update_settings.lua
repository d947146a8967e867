-- Changes a wall's settings, bumps their version (the post script compares
-- it, so a post sent to any process afterwards sees the change) and tells
-- every reader on the wall's stream, all at once: the entry is made from
-- the hash as this change leaves it, so two changes at the same moment
-- can never leave readers with a mix of both.
-- KEYS: 1 meta hash, 2 posts stream
-- ARGV: 1 the wall, 2 a fresh grant salt ('' when grants stay valid), then
--       field, value pairs
-- Returns the new version.
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
if ARGV[2] ~= '' then
  -- grants of the old visibility or passcode stop working at once
  redis.call('HINCRBY', KEYS[1], 'g', 1)
  redis.call('HSET', KEYS[1], 'gs', ARGV[2])
end
local version = redis.call('HINCRBY', KEYS[1], 'v', 1)
local m = {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do m[flat[i]] = flat[i + 1] end
-- WallSettings.public() (wall/domain/walls.py), and the grant for readers
-- that make watchers without it leave; tests hold the two equal
local public = {
  wall = ARGV[1],
  title = m['title'] or '',
  description = m['description'] or '',
  moderation = m['moderation'] or 'open',
  slow_mode_s = tonumber(m['slow_mode_s'] or '0') or 0,
  visibility = m['visibility'] or 'public',
  _grant = tonumber(m['g'] or '0') or 0,
  _salt = m['gs'] or '',
}
redis.call('XADD', KEYS[2], '*', 't', 'settings', 'j', cjson.encode(public))
return version
