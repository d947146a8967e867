-- A post's current state, kept in the wall's state hash as
-- "<status>,<pinned 0|1>,<revision>,<likes>" once it differs from how it was
-- written (visible, or pending if its entry has s=p; unpinned; 0; 0).
-- The revision grows with every change of the post, so that a client keeps
-- the newest of two updates whatever order they arrive in.
-- Prepended to the scripts that change posts.
local function entry_fields(flat)
  local f = {}
  for i = 1, #flat, 2 do f[flat[i]] = flat[i + 1] end
  return f
end

local function read_state(state_key, pid, f)
  local st = redis.call('HGET', state_key, pid)
  if st then
    local a, b, c, d = string.match(st, '^(%a+),(%d),(%d+),?(%d*)$')
    return a, tonumber(b), tonumber(c), tonumber(d) or 0
  end
  if f['s'] == 'p' then return 'pending', 0, 0, 0 end
  return 'visible', 0, 0, 0
end

local function write_state(state_key, pid, status, pin, rev, likes)
  redis.call('HSET', state_key, pid, status .. ',' .. pin .. ',' .. rev .. ',' .. likes)
end

-- The snapshot fields of a post after a change (for entries of the stream).
local function snapshot(entry, f, status, pin, rev, likes)
  entry[#entry + 1] = 'u'
  entry[#entry + 1] = f['u']
  entry[#entry + 1] = 'm'
  entry[#entry + 1] = f['m']
  if f['c'] then
    entry[#entry + 1] = 'c'
    entry[#entry + 1] = f['c']
  end
  for _, kv in ipairs({{'s', status}, {'n', tostring(pin)}, {'r', tostring(rev)},
                       {'l', tostring(likes)}}) do
    entry[#entry + 1] = kv[1]
    entry[#entry + 1] = kv[2]
  end
  return entry
end
