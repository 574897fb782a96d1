--[[
heartbeat: a worker says it is alive (or, leaving, that it is gone) and learns who else is, in one
round trip. The workers' set is what affinity claiming hashes over: a worker whose heartbeat is
older than the TTL is taken for dead, so its records fall to the next worker in their ranking.

KEYS[1]  the live workers    sorted set: worker → epoch ms of its last heartbeat (Redis's clock)

ARGV[1]  worker name
ARGV[2]  TTL in ms: heartbeats older than this are dropped
ARGV[3]  "beat" to record this worker, "leave" to remove it

Returns the names of the live workers (this one included after a beat), in name order.
]]
--- @include "now-ms"

local now = nowMs()
if ARGV[3] == 'leave' then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], now, ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[2])))
local live = redis.call('ZRANGE', KEYS[1], 0, -1)
table.sort(live)
return live
