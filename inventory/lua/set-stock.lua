--[[
set-stock: set a SKU's available quantity, keep what is reserved, and index the SKU for listing.

KEYS[1]  stock:<sku>     hash: available, reserved
KEYS[2]  stock:index     sorted set of SKUs (all scores 0, listed by ZRANGE BYLEX)

ARGV[1]  available (integer >= 0)
ARGV[2]  sku

Returns {available, reserved}.
]]
redis.call('HSET', KEYS[1], 'available', ARGV[1])
redis.call('HSETNX', KEYS[1], 'reserved', 0)
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return {tonumber(ARGV[1]), tonumber(redis.call('HGET', KEYS[1], 'reserved'))}
