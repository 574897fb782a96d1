--[[
due: the ids on the backlog whose time has come, by Redis's clock, plus the backlog's size and how
overdue its oldest entry is (for the backlog metrics), in one round trip. Also trims the dead list
of entries older than the retention, as their records have expired.

KEYS[1]  the backlog         e.g. jobs:pending
KEYS[2]  the dead list       e.g. jobs:dead

ARGV[1]  maximum number of ids to return
ARGV[2]  retention in ms

Returns {size, overdueMs, id1, id2, ...}, oldest due first; overdueMs is 0 when nothing is due.
]]
--- @include "now-ms"

local now = nowMs()
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - tonumber(ARGV[2])))
local size = redis.call('ZCARD', KEYS[1])
local reply = {size, 0}
if size == 0 then
  return reply
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local overdue = now - tonumber(oldest[2])
if overdue > 0 then
  reply[2] = overdue
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))) do
  reply[#reply + 1] = id
end
return reply
