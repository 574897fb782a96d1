--[[
claim-order: take the processing lock of a PENDING order and count the attempt, in one round trip.
This is design step 2 (docs/design.md) (SET lock NX PX) plus the checks that make a late or duplicate claim cheap.

KEYS[1]  lock:<orderId>     string, value = the claimant's random token
KEYS[2]  order:<orderId>    hash
KEYS[3]  orders:pending     sorted set
KEYS[4]  orders:dead        sorted set

ARGV[1]  token (random per attempt)
ARGV[2]  lock TTL in ms
ARGV[3]  orderId
ARGV[4]  max attempts
ARGV[5]  replica name
ARGV[6]  now (ISO-8601, for updatedAt/processedAt)
ARGV[7]  status channel (order_status, namespaced)
ARGV[8]  retention in ms: an order FAILED here expires this long after (ORDER_RETENTION_MS)

Returns:
  {"not_found"}                       no such order (forged or foreign message)
  {"already_processed", status}       the order is terminal; nothing taken
  {"locked"}                          another attempt holds the lock
  {"exhausted", attempts}             attempts were used up by crashed attempts: now FAILED
  {"claimed", attempt, itemsJson, createdAt, traceJson}
                                      lock taken (or already ours: a re-sent claim); attempt is 1-based;
                                      traceJson is "" when the order was accepted without tracing
]]
local status = redis.call('HGET', KEYS[2], 'status')
if not status then
  return {'not_found'}
end
if status ~= 'PENDING' then
  return {'already_processed', status}
end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  -- Our own token: this is a re-sent claim whose first reply was lost (connection dropped after the
  -- claim ran). Answer as the first run did instead of abandoning a lock we hold.
  if redis.call('GET', KEYS[1]) == ARGV[1] then
    local again = redis.call('HMGET', KEYS[2], 'attempts', 'items', 'createdAt', 'trace')
    return {'claimed', tonumber(again[1]), again[2], again[3], again[4] or ''}
  end
  return {'locked'}
end

local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local attempts = tonumber(redis.call('HGET', KEYS[2], 'attempts') or '0')

if attempts >= tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[2],
    'status', 'FAILED',
    'reason', 'attempts_exhausted',
    'processedBy', ARGV[5],
    'processedAt', ARGV[6],
    'updatedAt', ARGV[6],
    'commitToken', ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[8])
  redis.call('ZREM', KEYS[3], ARGV[3])
  redis.call('ZADD', KEYS[4], nowMs, ARGV[3])
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[7], ARGV[3])
  return {'exhausted', attempts}
end

attempts = redis.call('HINCRBY', KEYS[2], 'attempts', 1)
-- A claimant that dies leaves the order due again exactly when its lock expires.
redis.call('ZADD', KEYS[3], 'XX', nowMs + tonumber(ARGV[2]), ARGV[3])
local order = redis.call('HMGET', KEYS[2], 'items', 'createdAt', 'trace')
return {'claimed', attempts, order[1], order[2], order[3] or ''}
