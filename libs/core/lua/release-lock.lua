--[[
release-lock: compare-and-delete. Hands an order back without committing (shutdown, abandoned
work): deletes the lock only if we still own it and makes the order due again after a delay.
Never deletes a lock another attempt holds.

KEYS[1]  lock:<orderId>
KEYS[2]  orders:pending

ARGV[1]  token
ARGV[2]  orderId
ARGV[3]  ms from now until the order is due again (0 = at once)

Returns 1 when released, 0 when the lock was not ours (nothing changed).
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[2], 'XX', nowMs + tonumber(ARGV[3]), ARGV[2])
return 1
