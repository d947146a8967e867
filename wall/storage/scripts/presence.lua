-- Counts the sockets of live processes, forgets dead ones, and decides
-- whether this caller announces the new total: only when it changed, and at
-- most once a second per wall across all processes (the gate key).
-- KEYS: online hash, processes zset, last-announced key, gate key
-- ARGV: process id, local count, now ms, oldest live heartbeat ms, gate ms
-- Returns {total, 1 announce | 0 unchanged | -1 another process announced}
local count = tonumber(ARGV[2])
if count > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], count)
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local total = 0
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  local seen = redis.call('ZSCORE', KEYS[2], flat[i])
  if seen and tonumber(seen) >= tonumber(ARGV[4]) then
    total = total + tonumber(flat[i + 1])
  else
    redis.call('HDEL', KEYS[1], flat[i])
  end
end
if redis.call('GET', KEYS[3]) == tostring(total) then
  return {total, 0}
end
if redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[5]) then
  redis.call('SET', KEYS[3], tostring(total), 'EX', 86400)
  return {total, 1}
end
return {total, -1}
