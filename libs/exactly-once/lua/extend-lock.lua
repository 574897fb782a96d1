--[[
extend-lock: the lease's renewal (compare-and-PEXPIRE). Only the owner of the lock extends it, and
the record's due time on the backlog moves with it so the sweep leaves a live attempt alone.

KEYS[1]  the lock            e.g. lock:<id>
KEYS[2]  the backlog         e.g. jobs:pending

ARGV[1]  token
ARGV[2]  lock TTL in ms
ARGV[3]  id

Returns 1 when extended, 0 when the lock is no longer ours.
]]
--- @include "now-ms"

if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], 'XX', nowMs() + tonumber(ARGV[2]), ARGV[3])
return 1
