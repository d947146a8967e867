-- Stores a post once, after every check that must see the wall's state at
-- this very moment: its settings version (the caller checked the settings
-- it cached), bans, slow mode, and the client_id (a retry stores nothing).
-- KEYS: 1 posts stream, 2 client-id key, 3 trimmed hash, 4 walls index,
--       5 post ids list, 6 meta hash, 7 banned set, 8 slow-mode key,
--       9 authors hash, 10 pending zset, 11 state hash, 12 hidden zset,
--       13 pinned zset, 14 popular zset
-- ARGV: 1 username, 2 message, 3 client_id ('' for none), 4 history,
--       5 client-id ttl, 6 wall, 7 settings version the caller checked
--       against ('' when the wall has none), 8 who (the client), 9 the
--       address as banned ('a:<ip>', or ''), 10 slow mode in ms ('0'),
--       11 '1' to hold the post for approval, 12 author record, 13 why the
--       caller refuses it ('closed', 'rejected'; '' to store it): a retry of
--       a post stored before gets the original all the same
-- Returns {1, id} when stored; {0, id, fields} (or {0, id} if the original
-- is gone) for a client_id already used; {-1, version} when the settings
-- changed; {-2} banned; {-3, ms to wait} in slow mode; {-4, why} refused.
local version = redis.call('HGET', KEYS[6], 'v') or ''
if version ~= ARGV[7] then
  return {-1, version}
end
local cid = ARGV[3]
if cid ~= '' then
  local existing = redis.call('GET', KEYS[2])
  if existing then
    -- a write, so that a WAIT after this retry also covers the original
    -- (wall/storage/durable.py)
    redis.call('SET', KEYS[2], existing, 'KEEPTTL')
    local found = redis.call('XRANGE', KEYS[1], existing, existing)
    if #found > 0 then return {0, found[1][1], found[1][2]} end
    return {0, existing}
  end
end
if ARGV[13] ~= '' then
  return {-4, ARGV[13]}
end
if redis.call('SISMEMBER', KEYS[7], ARGV[8]) == 1
    or (ARGV[9] ~= '' and redis.call('SISMEMBER', KEYS[7], ARGV[9]) == 1) then
  return {-2}
end
if ARGV[10] ~= '0' then
  if not redis.call('SET', KEYS[8], '1', 'PX', ARGV[10], 'NX') then
    return {-3, redis.call('PTTL', KEYS[8])}
  end
end
local fields = {'u', ARGV[1], 'm', ARGV[2]}
if cid ~= '' then
  fields[#fields + 1] = 'c'
  fields[#fields + 1] = cid
end
if ARGV[11] == '1' then
  fields[#fields + 1] = 's'
  fields[#fields + 1] = 'p'
end
list_posts(KEYS[1], KEYS[5])
local id = redis.call('XADD', KEYS[1], '*', unpack(fields))
local ms = tonumber(string.match(id, '^%d+'))
-- the client_id first: whatever fails after this, a retry finds the post
if cid ~= '' then
  redis.call('SET', KEYS[2], id, 'EX', ARGV[5])
end
redis.call('RPUSH', KEYS[5], id)
retain(KEYS[1], KEYS[5], KEYS[3], ARGV[6], tonumber(ARGV[4]),
       {KEYS[9], KEYS[11], KEYS[10], KEYS[12], KEYS[13], KEYS[14]})
redis.call('HSET', KEYS[9], id, ARGV[12])
if ARGV[11] == '1' then
  redis.call('ZADD', KEYS[10], ms, id)
  redis.call('HSET', KEYS[11], id, 'pending,0,0,0')
end
redis.call('ZADD', KEYS[4], ms, ARGV[6])
return {1, id}
