-- Stores a post once: the client_id check and the write are one step.
-- KEYS: posts stream, client-id key, trimmed hash, walls index
-- ARGV: username, message, client_id ('' for none), maxlen, client-id ttl, wall
-- Returns {1, id} when stored, {0, id, fields} (or {0, id} if the original
-- is gone) when the client_id was used already.
local cid = ARGV[3]
if cid ~= '' then
  local existing = redis.call('GET', KEYS[2])
  if existing then
    local found = redis.call('XRANGE', KEYS[1], existing, existing)
    if #found > 0 then return {0, found[1][1], found[1][2]} end
    return {0, existing}
  end
end
local fields = {'u', ARGV[1], 'm', ARGV[2]}
if cid ~= '' then
  fields[5] = 'c'
  fields[6] = cid
end
local id = append(KEYS[1], KEYS[3], ARGV[6], ARGV[4], fields)
if cid ~= '' then
  redis.call('SET', KEYS[2], id, 'EX', ARGV[5])
end
redis.call('ZADD', KEYS[4], tonumber(string.match(id, '^%d+')), ARGV[6])
return {1, id}
