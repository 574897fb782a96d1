--[[
due-orders: the ids on the backlog whose recovery time has come, by Redis's clock (so replicas
with skewed clocks agree on what is due), plus the backlog's size and how overdue its oldest entry
is (for the backlog metrics), in one round trip.

KEYS[1]  orders:pending

ARGV[1]  maximum number of ids to return

Returns {size, overdueMs, id1, id2, ...}, oldest due first; overdueMs is 0 when nothing is due.
]]
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local size = redis.call('ZCARD', KEYS[1])
local reply = {size, 0}
if size == 0 then
  return reply
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local overdue = nowMs - tonumber(oldest[2])
if overdue > 0 then
  reply[2] = overdue
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', nowMs, 'LIMIT', 0, tonumber(ARGV[1]))) do
  reply[#reply + 1] = id
end
return reply
