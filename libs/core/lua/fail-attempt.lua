--[[
fail-attempt: record that an attempt's work failed. Retries later with backoff, or after the last
allowed attempt marks the order FAILED and moves it to orders:dead. Only the lock owner may do this.

KEYS[1]  order:<orderId>
KEYS[2]  lock:<orderId>
KEYS[3]  orders:pending
KEYS[4]  orders:dead

ARGV[1]  token
ARGV[2]  orderId
ARGV[3]  max attempts
ARGV[4]  backoff in ms before the next attempt is due
ARGV[5]  now (ISO-8601)
ARGV[6]  error description (stored as lastError / reason)
ARGV[7]  replica name
ARGV[8]  status channel (order_status, namespaced)
ARGV[9]  retention in ms: a FAILED order expires this long after it failed (ORDER_RETENTION_MS)

Run again with the token that failed the order (its reply was lost, or not confirmed by enough
replicas), it answers "failed" again and changes nothing.

Returns:
  {"retry", attempts}             lock released, order due again after the backoff
  {"failed", attempts}            status FAILED, in orders:dead (now, or by this token before)
  {"lease_lost", status}          the lock is not ours; nothing changed
  {"already_processed", status}   terminal already; our lock deleted
]]
local order = redis.call('HMGET', KEYS[1], 'status', 'commitToken', 'attempts')
if order[1] == 'FAILED' and order[2] == ARGV[1] then
  return {'failed', tonumber(order[3])}
end
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return {'lease_lost', redis.call('HGET', KEYS[1], 'status') or 'UNKNOWN'}
end
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'PENDING' then
  redis.call('DEL', KEYS[2])
  return {'already_processed', status or 'UNKNOWN'}
end

local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
redis.call('DEL', KEYS[2])

if attempts >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1],
    'status', 'FAILED',
    'reason', ARGV[6],
    'processedBy', ARGV[7],
    'processedAt', ARGV[5],
    'updatedAt', ARGV[5],
    'commitToken', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[9])
  redis.call('ZREM', KEYS[3], ARGV[2])
  redis.call('ZADD', KEYS[4], nowMs, ARGV[2])
  redis.call('PUBLISH', ARGV[8], ARGV[2])
  return {'failed', attempts}
end

redis.call('HSET', KEYS[1], 'lastError', ARGV[6], 'updatedAt', ARGV[5])
redis.call('ZADD', KEYS[3], 'XX', nowMs + tonumber(ARGV[4]), ARGV[2])
return {'retry', attempts}
