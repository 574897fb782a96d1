--[[
claim: take the lock of a record that has work to do (SET lock NX PX) and count the attempt, in one
round trip, with the checks that make a late or duplicate claim cheap. docs/design.md, step 2.

KEYS[1]  the record (hash: status, attempts, createdAt, trace, ...)   e.g. job:<id>
KEYS[2]  its lock (string, value = the claimant's random token)       e.g. lock:<id>
KEYS[3]  the backlog (sorted set: id -> epoch ms due)                 e.g. jobs:pending
KEYS[4]  the dead list (sorted set: id -> epoch ms failed)            e.g. jobs:dead

ARGV[1]  token (random per attempt)
ARGV[2]  worker name (processedBy when attempts are exhausted)
ARGV[3]  now (ISO-8601)
ARGV[4]  status channel
ARGV[5]  id
ARGV[6]  retention in ms of a record FAILED here
ARGV[7]  the statuses that mean "work to do", space-separated (e.g. "PENDING CANCELLING")
ARGV[8]  lock TTL in ms
ARGV[9]  max attempts of each of those statuses, space-separated in the same order (e.g. "5 1000000")
ARGV[10] "fresh" to claim only work no attempt has started yet (a hedge, affinity claiming), else ""
ARGV[11..] record fields to hand back with a won claim (e.g. "items")

Returns:
  {"not_found"}                      no such record (a forged or foreign message)
  {"already_processed", status}      nothing to do; nothing taken
  {"locked"}                         another attempt holds the lock
  {"started"}                        (fresh only) an attempt has started this work: it is the
                                     lock's, or the backlog's with its backoff; nothing taken
  {"exhausted", attempts}            attempts were used up by interrupted attempts: now FAILED
  {"claimed", attempt, status, createdAt, traceJson, field...}
                                     lock taken (or already ours: a re-sent claim whose reply was
                                     lost); attempt is 1-based; traceJson is "" without tracing
]]
--- @include "now-ms"
--- @include "finish"

local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  return {'not_found'}
end
local maxAttempts = nil
local limits = {}
for limit in string.gmatch(ARGV[9], '%S+') do
  limits[#limits + 1] = tonumber(limit)
end
local i = 0
for candidate in string.gmatch(ARGV[7], '%S+') do
  i = i + 1
  if candidate == status then
    maxAttempts = limits[i]
  end
end
if not maxAttempts then
  return {'already_processed', status}
end

if ARGV[10] == 'fresh' and tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0') > 0 then
  return {'started'}
end

local fields = {'attempts', 'createdAt', 'trace'}
for i = 11, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
local function claimed(attempts)
  local values = redis.call('HMGET', KEYS[1], unpack(fields))
  local reply = {'claimed', attempts or tonumber(values[1]), status, values[2], values[3] or ''}
  for i = 4, #fields do
    reply[#reply + 1] = values[i]
  end
  return reply
end

if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[8]) then
  -- Our own token: a re-sent claim whose first reply was lost. Answer as the first run did.
  if redis.call('GET', KEYS[2]) == ARGV[1] then
    return claimed(nil)
  end
  return {'locked'}
end

local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
if attempts >= maxAttempts then
  redis.call('HSET', KEYS[1], 'reason', 'attempts_exhausted')
  finish('FAILED', status)
  redis.call('ZADD', KEYS[4], nowMs(), ARGV[5])
  return {'exhausted', attempts}
end

attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
-- A claimant that dies leaves the record due again exactly when its lock expires.
redis.call('ZADD', KEYS[3], 'XX', nowMs() + tonumber(ARGV[8]), ARGV[5])
return claimed(attempts)
