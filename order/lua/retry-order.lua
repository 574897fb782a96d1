--[[
retry-order: an operator sends a FAILED order through again. Only a FAILED order changes: it goes
back to PENDING with its attempts reset and its failure cleared, stops expiring, leaves
orders:dead, goes on the backlog and is published again, all at once. A FAILED order never
reserved stock (only a commit does, and a committed order is never FAILED), so the retried order is
still applied at most once; two concurrent retries find it FAILED only once. Each request brings a
token, kept as `retryToken`: a re-run of the same request (its reply was lost) answers "retried"
again, instead of "not_failed" for the order it just sent through.

KEYS[1]  order:<orderId>
KEYS[2]  orders:pending
KEYS[3]  orders:dead

ARGV[1]  orderId
ARGV[2]  now (ISO-8601)
ARGV[3]  recovery grace in ms (due for the sweep at now + grace, as at acceptance)
ARGV[4]  channel (order_updates, namespaced)
ARGV[5]  envelope JSON (built from the stored items)
ARGV[6]  the request's token

Returns:
  {"retried"}              PENDING again, on the backlog, published (again for a re-run)
  {"not_failed", status}   the order is not FAILED; nothing changed
  {"not_found"}            no such order (or it has expired)
]]
--- @include "now-ms"

local order = redis.call('HMGET', KEYS[1], 'status', 'retryToken')
local status = order[1]
if not status then
  return {'not_found'}
end
if order[2] == ARGV[6] then
  return {'retried'}
end
if status ~= 'FAILED' then
  return {'not_failed', status}
end

redis.call('HSET', KEYS[1], 'status', 'PENDING', 'attempts', 0, 'updatedAt', ARGV[2], 'retriedAt', ARGV[2], 'retryToken', ARGV[6])
redis.call('HDEL', KEYS[1], 'reason', 'lastError', 'processedBy', 'processedAt', 'commitToken:PENDING')
redis.call('PERSIST', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[2], nowMs() + tonumber(ARGV[3]), ARGV[1])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return {'retried'}
