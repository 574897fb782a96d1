--[[
apply-job: a test service's fenced commit. Adds the job's amount to a total once.

KEYS[1..3]  record, lock, backlog (the fence's head)   KEYS[4]  the total (string)
ARGV[1..7]  the fence's head                            ARGV[8]  amount

Returns {"applied", attempts}, or the fence's refusal.
]]
--- @include "fence"
--- @include "finish"

local refused = fence()
if refused then
  return refused
end
redis.call('INCRBY', KEYS[4], ARGV[8])
finish('DONE')
return {'applied', redis.call('HGET', KEYS[1], 'attempts')}
