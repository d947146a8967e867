-- Writes one stream entry for every post of a wall whose likes changed since
-- the last flush, at most once per `gap` ms per wall across all processes:
-- `post updated` reaches watchers a few times a second however fast people
-- click, and every page converges on the exact counts (each snapshot is the
-- post as it is at the flush).
-- KEYS: 1 the wall's changed posts set, 2 posts stream, 3 state, 4 gate key,
--       5 the set of walls with changes
-- ARGV: 1 the wall, 2 gap ms
-- Returns the number of posts flushed (0 also when another flush ran just now).
if redis.call('SET', KEYS[4], '1', 'PX', ARGV[2], 'NX') == false then
  return 0
end
local ids = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[5], ARGV[1])
local posts = {}
for _, pid in ipairs(ids) do
  local found = redis.call('XRANGE', KEYS[2], pid, pid)
  if #found > 0 then
    local f = entry_fields(found[1][2])
    if f['u'] then
      local status, pin, rev, likes = read_state(KEYS[3], pid, f)
      posts[#posts + 1] = {pid, f['u'], f['m'], f['c'] or '', status, pin, rev, likes}
    end
  end
end
if #posts > 0 then
  redis.call('XADD', KEYS[2], '*', 't', 'likes', 'j', cjson.encode(posts))
end
return #posts
