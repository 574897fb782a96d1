--[[
reserve-stock: the inventory's fenced commit of an OrderPlaced. Applies an order's effect on stock
exactly once.

Only when the lock still holds our token AND the order is PENDING (the engine's fence include):
check every item's stock (items are read from the order hash, never from a message), reserve all
of them or none, and finish the order RESERVED or REJECTED (the engine's finish include: who, with
which token, retention TTL, off the backlog, lock deleted, announced on order_status). Otherwise
nothing changes. Because the check and the effect are one script, an attempt that paused past its
TTL, or a duplicate delivery after release, can never apply twice.

KEYS[1]     order:<orderId>
KEYS[2]     lock:<orderId>
KEYS[3]     orders:pending
KEYS[4..n]  stock:<sku> for each distinct SKU of the order, in order of first appearance

ARGV[1..7]  token, replica, now, status channel, orderId, retention in ms, "PENDING" (the fence's head)
ARGV[8]     stock key prefix ("stock:" or "<namespace>:stock:"), to check KEYS[4..n] against the items

Returns:
  {"reserved", attempts}               stock reserved, status RESERVED
  {"rejected", attempts, sku}          some SKU short, nothing reserved, status REJECTED
  or the fence's refusal: {"replayed", status, attempts} | {"lease_lost", status}
                          | {"already_processed", status} | {"not_found"}
]]
--- @include "fence"
--- @include "finish"
--- @include "order-stock"

local refused = fence()
if refused then
  return refused
end

local order = redis.call('HMGET', KEYS[1], 'items', 'attempts')
local items, attempts = cjson.decode(order[1]), order[2]

local skus, need = order_stock(items, 'reserve-stock')
if not skus then
  return need
end

local short = nil
for i, sku in ipairs(skus) do
  local available = tonumber(redis.call('HGET', KEYS[i + 3], 'available') or '0')
  if available < need[sku] then
    short = sku
    break
  end
end

if short then
  redis.call('HSET', KEYS[1], 'reason', 'insufficient_stock:' .. short)
  finish('REJECTED')
  return {'rejected', attempts, short}
end
for i, sku in ipairs(skus) do
  redis.call('HINCRBY', KEYS[i + 3], 'available', -need[sku])
  redis.call('HINCRBY', KEYS[i + 3], 'reserved', need[sku])
end
finish('RESERVED')
return {'reserved', attempts}
