--[[
due-orders: the ids on the backlog whose recovery time has come, by Redis's clock (so replicas
with skewed clocks agree on what is due).

KEYS[1]  orders:pending

ARGV[1]  maximum number of ids to return

Returns an array of orderIds, oldest due first.
]]
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', nowMs, 'LIMIT', 0, tonumber(ARGV[1]))
