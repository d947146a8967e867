-- One moderation change of one post, and its entry in the wall's stream.
-- The entry is a snapshot of the post after the change (t: what changed,
-- p: the post id, u/m/c: its text, s: its status, n: pinned, r: its
-- revision, l: its likes), so that every reader can act on it alone, live
-- or catching up.
-- KEYS: 1 posts stream, 2 state, 3 pending, 4 hidden, 5 pinned, 6 popular
-- ARGV: 1 action (approve, hide, restore, pin, unpin), 2 post id, 3 now ms,
--       4 pins a wall may have
-- Returns {1, status, pinned, rev, fields, likes} when changed, {2, ...} when
-- it already was so (nothing written), {0, 'not_found'}, {0, 'too_many'}
-- (pins) or {0, 'invalid', status}.
local action, pid = ARGV[1], ARGV[2]
local found = redis.call('XRANGE', KEYS[1], pid, pid)
if #found == 0 then return {0, 'not_found'} end
local flat = found[1][2]
local f = entry_fields(flat)
if not f['u'] then return {0, 'not_found'} end
local status, pin, rev, likes = read_state(KEYS[2], pid, f)
local new_status, new_pin = status, pin
if action == 'approve' then
  if status == 'hidden' then return {0, 'invalid', status} end
  new_status = 'visible'
elseif action == 'hide' then
  new_status, new_pin = 'hidden', 0
elseif action == 'restore' then
  if status == 'pending' then return {0, 'invalid', status} end
  new_status = 'visible'
elseif action == 'pin' then
  if status ~= 'visible' then return {0, 'invalid', status} end
  if pin == 0 and redis.call('ZCARD', KEYS[5]) >= tonumber(ARGV[4]) then
    return {0, 'too_many'}
  end
  new_pin = 1
elseif action == 'unpin' then
  new_pin = 0
else
  return {0, 'invalid', status}
end
if new_status == status and new_pin == pin then
  return {2, status, pin, rev, flat, likes}
end
rev = rev + 1
write_state(KEYS[2], pid, new_status, new_pin, rev, likes)
local ms = tonumber(ARGV[3])
if new_status ~= 'pending' then redis.call('ZREM', KEYS[3], pid) end
if new_status == 'hidden' then redis.call('ZADD', KEYS[4], ms, pid)
else redis.call('ZREM', KEYS[4], pid) end
if new_pin == 1 then redis.call('ZADD', KEYS[5], ms, pid)
else redis.call('ZREM', KEYS[5], pid) end
if new_status == 'visible' and likes > 0 then
  redis.call('ZADD', KEYS[6], likes, pid)
else
  redis.call('ZREM', KEYS[6], pid)
end
local entry = snapshot({'t', action, 'p', pid}, f, new_status, new_pin, rev, likes)
redis.call('XADD', KEYS[1], '*', unpack(entry))
return {1, new_status, new_pin, rev, flat, likes}
