--[[
accept-order: store a new order, put it on the recovery backlog, record its idempotency key and
publish the OrderPlaced envelope, all in one atomic step (all or nothing).

KEYS[1]  order:<orderId>          hash, created here
KEYS[2]  orders:pending           sorted set, orderId -> epoch ms when due for recovery
KEYS[3]  idem:<Idempotency-Key>   string -> orderId (only when the request carried the header)

ARGV[1]  orderId
ARGV[2]  items as JSON
ARGV[3]  bodyHash (sha256 of the canonical request body; tells a replay from a conflict)
ARGV[4]  createdAt (ISO-8601)
ARGV[5]  recovery grace in ms (the order is due for the sweep at now + grace)
ARGV[6]  channel (order_updates, namespaced)
ARGV[7]  envelope JSON
ARGV[8]  idempotency key TTL in ms (IDEMPOTENCY_TTL_SECONDS, at most ORDER_RETENTION_MS: a key
         never outlives its order, which lives at least that long after it turns terminal)
ARGV[9]  trace propagation headers as JSON ("" when tracing is off), kept so that a recovery by the
         sweep joins the order's trace like a Pub/Sub delivery does
ARGV[10] order key prefix ("order:" or "<namespace>:order:"), to see whether KEYS[3]'s order exists

A replay writes the value it found back unchanged: a write of this connection's own, after the
original one in the replication stream, so a WAIT that follows covers the order it answers with
(the original accept may have run on another connection and not reached a replica yet).

Returns {code, orderId, bodyHash}:
  {"created", orderId}                  stored and published
  {"idempotent", existingId}           KEYS[3] already names an order; the caller compares bodies
                                       (a key naming an order that has expired is dropped, and a new
                                       order is created)
  {"exists", orderId, storedBodyHash}  an order with this id exists; the caller compares bodies
]]
--- @include "now-ms"

if #KEYS == 3 then
  local existing = redis.call('GET', KEYS[3])
  if existing and redis.call('EXISTS', ARGV[10] .. existing) == 0 then
    -- Its order expired first (ORDER_RETENTION_MS shorter where the key was written): a new order.
    redis.call('DEL', KEYS[3])
    existing = nil
  end
  if existing then
    redis.call('SET', KEYS[3], existing, 'KEEPTTL')
    return {'idempotent', existing}
  end
end

local stored = redis.call('HGET', KEYS[1], 'bodyHash')
if stored then
  redis.call('HSET', KEYS[1], 'bodyHash', stored)
  return {'exists', ARGV[1], stored}
end


redis.call('HSET', KEYS[1],
  'status', 'PENDING',
  'items', ARGV[2],
  'bodyHash', ARGV[3],
  'createdAt', ARGV[4],
  'updatedAt', ARGV[4],
  'attempts', 0)
if ARGV[9] ~= '' then
  redis.call('HSET', KEYS[1], 'trace', ARGV[9])
end
redis.call('ZADD', KEYS[2], nowMs() + tonumber(ARGV[5]), ARGV[1])
if #KEYS == 3 then
  redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[8])
end
redis.call('PUBLISH', ARGV[6], ARGV[7])
return {'created', ARGV[1]}
