--[[
commit-order: the fence. Applies an order's effect on stock exactly once.

Only when lock:<orderId> still holds our token AND the order is PENDING: check every item's stock
(items are read from the order hash, never from a message), reserve all of them or none, set the
terminal status, record who applied it and with which token, start the order's retention TTL, drop
the order from the backlog and delete the lock. Otherwise nothing changes. Because the check and the effect are one script, an
attempt that paused past its TTL, or a duplicate delivery after release, can never apply twice.

KEYS[1]     order:<orderId>
KEYS[2]     lock:<orderId>
KEYS[3]     orders:pending
KEYS[4..n]  stock:<sku> for each distinct SKU of the order, in order of first appearance

ARGV[1]  token
ARGV[2]  replica name (processedBy)
ARGV[3]  now (ISO-8601)
ARGV[4]  stock key prefix ("stock:" or "<namespace>:stock:"), to check KEYS[4..n] against the items
ARGV[5]  status channel (order_status, namespaced)
ARGV[6]  orderId
ARGV[7]  retention in ms: the terminal order expires this long after the commit (ORDER_RETENTION_MS)

Returns:
  {"reserved", attempts}               stock reserved, status RESERVED
  {"rejected", attempts, sku}          some SKU short, nothing reserved, status REJECTED
  {"replayed", status, attempts}       this token already committed (the reply to a first call was lost)
  {"lease_lost", status}               the lock is not ours (expired, or another attempt holds it)
  {"already_processed", status}        the order is terminal already; our lock is deleted
  {"not_found"}                        no such order
]]
local order = redis.call('HMGET', KEYS[1], 'status', 'commitToken', 'items', 'attempts')
local status, commitToken, itemsJson, attempts = order[1], order[2], order[3], order[4]
if not status then
  return {'not_found'}
end
if commitToken == ARGV[1] then
  return {'replayed', status, attempts}
end
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return {'lease_lost', status}
end
if status ~= 'PENDING' then
  redis.call('DEL', KEYS[2])
  return {'already_processed', status}
end

-- Sum quantities per SKU (an order may name one SKU twice) in order of first appearance.
local items = cjson.decode(itemsJson)
local skus, need = {}, {}
for _, item in ipairs(items) do
  if need[item.sku] == nil then
    skus[#skus + 1] = item.sku
    need[item.sku] = 0
  end
  need[item.sku] = need[item.sku] + item.quantity
end
if #skus ~= #KEYS - 3 then
  return redis.error_reply('commit-order: expected ' .. #skus .. ' stock keys, got ' .. (#KEYS - 3))
end
for i, sku in ipairs(skus) do
  if KEYS[i + 3] ~= ARGV[4] .. sku then
    return redis.error_reply('commit-order: KEYS[' .. (i + 3) .. '] does not match sku ' .. sku)
  end
end

local short = nil
for i, sku in ipairs(skus) do
  local available = tonumber(redis.call('HGET', KEYS[i + 3], 'available') or '0')
  if available < need[sku] then
    short = sku
    break
  end
end

local outcome
if short then
  outcome = 'REJECTED'
  redis.call('HSET', KEYS[1], 'reason', 'insufficient_stock:' .. short)
else
  outcome = 'RESERVED'
  for i, sku in ipairs(skus) do
    redis.call('HINCRBY', KEYS[i + 3], 'available', -need[sku])
    redis.call('HINCRBY', KEYS[i + 3], 'reserved', need[sku])
  end
end

redis.call('HSET', KEYS[1],
  'status', outcome,
  'processedBy', ARGV[2],
  'processedAt', ARGV[3],
  'updatedAt', ARGV[3],
  'commitToken', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
redis.call('ZREM', KEYS[3], ARGV[6])
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[5], ARGV[6])
if short then
  return {'rejected', attempts, short}
end
return {'reserved', attempts}
