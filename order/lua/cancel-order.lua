--[[
cancel-order: a client cancels an order, in one atomic step.

A PENDING order becomes CANCELLED at once, with nothing reserved: it leaves the backlog, its
retention TTL starts, and a replica working on it finds its commit refused by the fence (the order
is no longer PENDING). A RESERVED order becomes CANCELLING (shown as RESERVED, cancel requested):
its release is work to do, so it goes on the backlog with fresh attempts, stops expiring, and the
OrderCancelled envelope is published; the replica that wins its lock gives the stock back
(release-stock.lua). Anything else changes nothing.

Each request brings a token, kept as `cancelToken`: a re-run of the same request (its reply was
lost, e.g. in a failover) answers what the first run did, so the caller still logs the one
`order.cancelled` of an order it cancelled, instead of finding it "unchanged".

KEYS[1]  order:<orderId>
KEYS[2]  orders:pending

ARGV[1]  orderId
ARGV[2]  now (ISO-8601)
ARGV[3]  recovery grace in ms (the release is due for the sweep at now + grace)
ARGV[4]  order_updates channel (namespaced)
ARGV[5]  OrderCancelled envelope JSON
ARGV[6]  order_status channel (namespaced)
ARGV[7]  retention in ms of the CANCELLED order
ARGV[8]  who cancelled (processedBy of a PENDING order cancelled here)
ARGV[9]  the request's token

Returns:
  {"cancelled"}            was PENDING: now CANCELLED, nothing was reserved
  {"requested"}            was RESERVED: now CANCELLING, on the backlog, published
                           (both again for a re-run with the same token)
  {"unchanged", status}    CANCELLING or CANCELLED already (a repeat), or REJECTED / FAILED
                           (nothing to cancel); the caller tells them apart by status
  {"not_found"}            no such order (or it has expired)
]]
--- @include "now-ms"

local order = redis.call('HMGET', KEYS[1], 'status', 'cancelToken', 'cancelRequestedAt')
local status = order[1]
if not status then
  return {'not_found'}
end
if order[2] == ARGV[9] then
  -- A re-run: a request for a RESERVED order recorded cancelRequestedAt (whatever the release did since).
  if order[3] then
    return {'requested'}
  end
  return {'cancelled'}
end
if status == 'PENDING' then
  redis.call('HSET', KEYS[1],
    'status', 'CANCELLED',
    'reason', 'cancelled',
    'processedBy', ARGV[8],
    'processedAt', ARGV[2],
    'updatedAt', ARGV[2],
    'cancelledAt', ARGV[2],
    'cancelToken', ARGV[9])
  redis.call('PEXPIRE', KEYS[1], ARGV[7])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('PUBLISH', ARGV[6], ARGV[1])
  return {'cancelled'}
end
if status == 'RESERVED' then
  redis.call('HSET', KEYS[1], 'status', 'CANCELLING', 'attempts', 0, 'updatedAt', ARGV[2], 'cancelRequestedAt', ARGV[2],
    'cancelToken', ARGV[9])
  redis.call('PERSIST', KEYS[1])
  redis.call('ZADD', KEYS[2], nowMs() + tonumber(ARGV[3]), ARGV[1])
  redis.call('PUBLISH', ARGV[4], ARGV[5])
  return {'requested'}
end
return {'unchanged', status}
