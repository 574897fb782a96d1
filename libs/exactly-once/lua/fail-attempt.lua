--[[
fail-attempt: record that an attempt's work failed. Retries later with backoff, or after the last
allowed attempt marks the record FAILED and moves it to the dead list. Only the lock owner may.

KEYS[1..3]  record, lock, backlog (the head finish.lua describes)
KEYS[4]     the dead list

ARGV[1..7]  token, worker, now, status channel, id, retention in ms, working status (finish.lua)
ARGV[8]     max attempts
ARGV[9]     backoff in ms before the next attempt is due
ARGV[10]    error description (stored as lastError, or reason once FAILED)

Run again with the token that failed the record (its reply was lost, or not confirmed by enough
replicas), it answers "failed" again and changes nothing.

Returns:
  {"retry", attempts}             lock released, record due again after the backoff
  {"failed", attempts}            status FAILED, on the dead list (now, or by this token before)
  {"lease_lost", status}          the lock is not ours; nothing changed
  {"already_processed", status}   the record left the working status; our lock deleted
]]
--- @include "now-ms"
--- @include "fence"
--- @include "finish"

local refused = fence()
if refused then
  if refused[1] == 'replayed' then
    if refused[2] == 'FAILED' then
      return {'failed', tonumber(refused[3])}
    end
    return {'already_processed', refused[2]}
  end
  if refused[1] == 'not_found' then
    return {'lease_lost', 'UNKNOWN'}
  end
  return refused
end

local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
if attempts >= tonumber(ARGV[8]) then
  redis.call('HSET', KEYS[1], 'reason', ARGV[10])
  finish('FAILED')
  redis.call('ZADD', KEYS[4], nowMs(), ARGV[5])
  return {'failed', attempts}
end

redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'lastError', ARGV[10], 'updatedAt', ARGV[3])
redis.call('ZADD', KEYS[3], 'XX', nowMs() + tonumber(ARGV[9]), ARGV[5])
return {'retry', attempts}
