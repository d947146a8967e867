-- Appends to a wall's stream with retention, and remembers how far retention
-- has cut, so that readers behind that point know they missed something.
-- Prepended to the scripts that write a wall's stream.
local function append(stream, trimmed, wall, maxlen, fields)
  local before = redis.call('XLEN', stream)
  local id = redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', unpack(fields))
  if redis.call('XLEN', stream) <= before then
    local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
    redis.call('HSET', trimmed, wall, oldest[1][1])
  end
  return id
end
