--[[
release-stock: the inventory's fenced commit of an OrderCancelled. Gives a cancelled order's
reservation back exactly once: a release applied twice would create stock out of nothing, a
release lost would keep it locked forever.

Only when the lock still holds our token AND the order is CANCELLING (the engine's fence include):
for every item, available += quantity and reserved -= quantity, all or none (every SKU must hold
the reservation), and finish the order CANCELLED (the engine's finish include). Otherwise nothing
changes; a re-run with the same token (its reply was lost) answers "replayed".

KEYS[1]     order:<orderId>
KEYS[2]     lock:<orderId>
KEYS[3]     orders:pending
KEYS[4..n]  stock:<sku> for each distinct SKU of the order, in order of first appearance

ARGV[1..7]  token, replica, now, status channel, orderId, retention in ms, "CANCELLING" (the fence's head)
ARGV[8]     stock key prefix ("stock:" or "<namespace>:stock:"), to check KEYS[4..n] against the items

Returns:
  {"released", attempts}       stock given back, status CANCELLED
  or the fence's refusal: {"replayed", status, attempts} | {"lease_lost", status}
                          | {"already_processed", status} | {"not_found"}
  an error reply when a SKU holds less reserved than the order (the stock was changed by hand):
  nothing is released and the release stays due, for an operator to see in order.error lines
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

local skus, held = order_stock(items, 'release-stock')
if not skus then
  return held
end
for i, sku in ipairs(skus) do
  local reserved = tonumber(redis.call('HGET', KEYS[i + 3], 'reserved') or '0')
  if reserved < held[sku] then
    return redis.error_reply('release-stock: ' .. sku .. ' holds ' .. reserved .. ' reserved, less than the order\'s ' .. held[sku])
  end
end

for i, sku in ipairs(skus) do
  redis.call('HINCRBY', KEYS[i + 3], 'available', held[sku])
  redis.call('HINCRBY', KEYS[i + 3], 'reserved', -held[sku])
end
redis.call('HSET', KEYS[1], 'cancelledAt', ARGV[3])
finish('CANCELLED')
return {'released', attempts}
