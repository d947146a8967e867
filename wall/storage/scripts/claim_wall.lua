-- Gives a wall its organiser, once: the first claim wins.
-- KEYS: 1 meta hash, 2 organiser keys hash, 3 posts stream, 4 organised walls set
-- ARGV: 1 '1' if the operator asks (may claim a wall that has posts),
--       2 key id, 3 key record (JSON), 4 created ms, 5 the wall,
--       then field, value pairs
-- Returns 1 when claimed, 0 if the wall has an organiser, -1 if it has
-- posts and the operator did not ask.
if redis.call('HEXISTS', KEYS[1], 'created') == 1 then
  return 0
end
if ARGV[1] ~= '1' and redis.call('XLEN', KEYS[3]) > 0 then
  return -1
end
redis.call('HSET', KEYS[1], 'created', ARGV[4])
for i = 6, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('SADD', KEYS[4], ARGV[5])
return 1
