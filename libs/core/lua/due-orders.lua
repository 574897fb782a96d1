--[[
due-orders: the ids on the backlog whose recovery time has come, by Redis's clock (so replicas
with skewed clocks agree on what is due), plus the backlog's size and how overdue its oldest entry
is (for the backlog metrics), in one round trip. Also trims orders:dead of the orders that have
expired, so the dead list follows the retention of the orders it names.

KEYS[1]  orders:pending
KEYS[2]  orders:dead

ARGV[1]  maximum number of ids to return
ARGV[2]  retention in ms: orders:dead entries older than this are dropped, as their orders have
         expired (ORDER_RETENTION_MS)

Returns {size, overdueMs, id1, id2, ...}, oldest due first; overdueMs is 0 when nothing is due.
]]
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (nowMs - tonumber(ARGV[2])))
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
