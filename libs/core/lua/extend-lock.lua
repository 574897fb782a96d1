--[[
extend-lock: the watchdog's renewal (compare-and-PEXPIRE). Only the owner of the lock extends it,
and the order's recovery due time moves with it so the sweep leaves a live attempt alone.

KEYS[1]  lock:<orderId>
KEYS[2]  orders:pending

ARGV[1]  token
ARGV[2]  lock TTL in ms
ARGV[3]  orderId

Returns 1 when extended, 0 when the lock is no longer ours.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[2], 'XX', nowMs + tonumber(ARGV[2]), ARGV[3])
return 1
