--[[
now-ms: Redis's clock in epoch milliseconds. Every due time is computed here, by the server, so
replicas whose clocks disagree still agree on what is due.
]]
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
