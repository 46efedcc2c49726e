"""The Lua scripts of `RedisCoordinator`, each atomic on the Redis server.

They read time only from the server's clock (`redis.call('TIME')`), never a host's.

Numbers are written with `string.format('%.6f')` (Lua's `tostring` keeps 14 digits, too few
for epoch seconds with microseconds).
"""

from __future__ import annotations

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function f(x) return string.format('%.6f', x) end
"""

TAKE = (
    _NOW
    + """
-- KEYS: bucket, pause. ARGV: configured rate (per second, 0: none), the bucket's capacity in
-- seconds of its rate, the bucket's idle expiry (ms), the priority window in seconds of its
-- rate, then one share per request asking, most urgent first (the share of a priority
-- window's tokens each leaves for more urgent requests).
-- Returns {n, ms}: the first n requests took a token; the next may ask again in ms.
local asking = #ARGV - 4
local until_ = tonumber(redis.call('GET', KEYS[2]) or '0')
if until_ > now then return {0, math.ceil((until_ - now) * 1000)} end
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'rate')
local rate = tonumber(ARGV[1])
local learned = tonumber(b[3] or '0')
if learned > 0 and (rate <= 0 or learned < rate) then rate = learned end
if rate <= 0 then return {asking, 0} end
local cap = math.max(1, rate * tonumber(ARGV[2]))
local tokens = tonumber(b[1] or f(cap))
local ts = tonumber(b[2] or f(now))
if now > ts then tokens = tokens + (now - ts) * rate; ts = now end
if tokens > cap then tokens = cap end
local window = math.max(1, math.min(cap, rate * tonumber(ARGV[4])))
local granted, wait = 0, 0
for i = 5, #ARGV do
  local need = 1 + (window - 1) * tonumber(ARGV[i])
  if tokens < need - 0.000001 then
    wait = math.max(1, math.ceil((need - tokens) / rate * 1000))
    break
  end
  tokens = tokens - 1
  granted = granted + 1
end
redis.call('HSET', KEYS[1], 'tokens', f(tokens), 'ts', f(ts))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {granted, wait}
"""
)

REPORT = (
    _NOW
    + """
-- KEYS: bucket, pause. ARGV: status, learned rate (0: none), remaining (-1: none), the
-- reserve (requests), reset epoch (0: none), retry-after seconds (-1: none), retry-at epoch
-- (0: none), the pause after a bare 429, the longest pause, the bucket's idle expiry (ms).
-- Returns the shared pause's remaining milliseconds (0: none).
local status = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local remaining = tonumber(ARGV[3])
local reset = tonumber(ARGV[5])
local retry_after = tonumber(ARGV[6])
local retry_at = tonumber(ARGV[7])
if rate > 0 then redis.call('HSET', KEYS[1], 'rate', f(rate)) end
local empty = status == 429 or (remaining >= 0 and remaining <= tonumber(ARGV[4]))
if empty then
  redis.call('HSET', KEYS[1], 'tokens', '0', 'ts', f(now))
elseif remaining >= 0 then
  -- never more tokens than the server says remain (less the reserve): the bucket holds a
  -- window's allowance, which a fixed window may have spent already
  local most = math.max(0, remaining - math.max(tonumber(ARGV[4]), 0))
  local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or '-1')
  if tokens < 0 or tokens > most then
    redis.call('HSET', KEYS[1], 'tokens', f(most), 'ts', f(now))
    empty = true  -- (the expiry below is refreshed)
  end
end
if rate > 0 or empty then redis.call('PEXPIRE', KEYS[1], ARGV[10]) end
local delay = -1
if status == 429 then
  if retry_after >= 0 then delay = retry_after
  elseif retry_at > 0 then delay = retry_at - now
  elseif reset > 0 then delay = reset - now end
  if delay <= 0 then delay = tonumber(ARGV[8]) end
elseif remaining == 0 and reset > 0 then
  delay = reset - now
end
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if delay > 0 then
  delay = math.min(delay, tonumber(ARGV[9]))
  if now + delay > current then
    redis.call('SET', KEYS[2], f(now + delay), 'PX', math.max(1, math.ceil(delay * 1000)))
    current = now + delay
  end
end
if current > now then return math.ceil((current - now) * 1000) end
return 0
"""
)

PAUSED = (
    _NOW
    + """
-- KEYS: pause. Returns the shared pause's remaining milliseconds (0: none).
local until_ = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > now then return math.ceil((until_ - now) * 1000) end
return 0
"""
)

RENEW = """
-- KEYS: lease. ARGV: owner, ttl (ms). Extends the lease if the owner holds it, or takes it if
-- nobody does. Returns 1 when the owner holds it afterwards.
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

RELEASE = """
-- KEYS: lease. ARGV: owner. Deletes the lease only if the owner holds it.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

HEARTBEAT = (
    _NOW
    + """
-- KEYS: members. ARGV: member, ttl (ms). Marks the member alive until now + ttl, forgets the
-- members whose heartbeats ran out, and returns the live ones.
redis.call('ZADD', KEYS[1], f(now + tonumber(ARGV[2]) / 1000), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', f(now))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""
)

LIVE = (
    _NOW
    + """
-- KEYS: members. Forgets the members whose heartbeats ran out; returns the live ones.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', f(now))
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""
)
