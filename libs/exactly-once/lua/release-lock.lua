--[[
release-lock: compare-and-delete. Hands a record back without committing (shutdown, lost work):
deletes the lock only if it is still ours and makes the record due again after a delay. Never
deletes a lock another attempt holds.

KEYS[1]  the lock            e.g. lock:<id>
KEYS[2]  the backlog         e.g. jobs:pending

ARGV[1]  token
ARGV[2]  id
ARGV[3]  ms from now until the record is due again (0 = at once)

Returns 1 when released, 0 when the lock was not ours (nothing changed).
]]
--- @include "now-ms"

if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('ZADD', KEYS[2], 'XX', nowMs() + tonumber(ARGV[3]), ARGV[2])
return 1
