--[[
fence: the check every fenced commit starts with. A commit may change anything only while the
record is in the status it works on AND the lock still holds this attempt's token.

Call it with the commit's conventional head (see finish.lua): KEYS[1] the record, KEYS[2] its
lock, ARGV[1] the token, ARGV[7] the status the commit works on. Returns nil when the commit may
go on, else the reply the script must return at once:
  {"not_found"}                    no such record
  {"replayed", status, attempts}   this token already committed the work of ARGV[7] (the first
                                   reply was lost); status is the record's now, which a later
                                   message's commit may have changed since
  {"lease_lost", status}           the lock is not ours (expired, or another attempt holds it)
  {"already_processed", status}    the record has left the working status; our lock is deleted
]]
local function fence()
  local record = redis.call('HMGET', KEYS[1], 'status', 'commitToken:' .. ARGV[7], 'attempts')
  local status = record[1]
  if not status then
    return {'not_found'}
  end
  if record[2] == ARGV[1] then
    return {'replayed', status, record[3]}
  end
  if redis.call('GET', KEYS[2]) ~= ARGV[1] then
    return {'lease_lost', status}
  end
  if status ~= ARGV[7] then
    redis.call('DEL', KEYS[2])
    return {'already_processed', status}
  end
  return nil
end
