--[[
finish: the ending every terminal write shares. Sets the terminal status, records who set it and
with which token, starts the record's retention TTL, drops it from the backlog, deletes the lock and announces the id on the status
channel, then on each worker channel listed after it (affinity claiming: the one worker that armed a
hedge for the record hears that it is done, and no other worker is woken).

The token is kept per working status, as commitToken:<status worked on> (`from`, by default
ARGV[7]), so a re-run with it is answered "replayed" even after a later message's commit has
finished the record again: a placement's commit that is re-run until the replicas confirm it must
still recognise itself after the order's release has committed.

The conventional head of a script that finishes a record:
KEYS[1]  the record (hash)          KEYS[2]  its lock          KEYS[3]  the backlog (sorted set)
ARGV[1]  token    ARGV[2]  worker (processedBy)    ARGV[3]  now (ISO-8601)    ARGV[4]  status channel [worker channel ...], space-separated
ARGV[5]  id       ARGV[6]  retention in ms          ARGV[7]  the status the script works on
]]
local function finish(status, from)
  redis.call('HSET', KEYS[1],
    'status', status,
    'processedBy', ARGV[2],
    'processedAt', ARGV[3],
    'updatedAt', ARGV[3],
    'commitToken:' .. (from or ARGV[7]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  redis.call('ZREM', KEYS[3], ARGV[5])
  redis.call('DEL', KEYS[2])
  for channel in string.gmatch(ARGV[4], '%S+') do
    redis.call('PUBLISH', channel, ARGV[5])
  end
end
