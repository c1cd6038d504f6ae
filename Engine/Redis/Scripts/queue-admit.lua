-- One step of a SKU's waiting room, run by the admitting loop's leaseholder. KEYS: 1 meta, 2 queue, 3 queue:waves,
-- 4 queue:used. No ARGV: the factor and the token lifetime are the SKU's (meta admit, admit_ttl).
-- Tickets 1..joined are in join order; 1..admitted were admitted, in waves; 1..lapsed no longer hold a valid admission.
-- Outstanding tokens = admitted - lapsed - tickets above lapsed whose token made an order (queue:used).
--   1. Waves whose tokens expired (admitted at + ttl <= now) leave the list and raise lapsed.
--   2. Sold out (available 0): every admission is withdrawn (lapsed = admitted): nobody holds a token for stock that is
--      gone, and when cancellations return units the next tickets in line are admitted, not the ones that had their turn.
--   3. Otherwise, once the sale is on (started, not ended, not fenced): the next tickets in join order are admitted, as
--      many as keep outstanding tokens <= floor(factor x available).
-- Reply (C#: SkuScripts.AdmitAsync): { DONE, admittedNow, admitted, lapsed, outstanding, available, joined, ended (1/0) },
-- or { NOT_WARMED } / { NO_QUEUE } (nothing written).
local meta = redis.call('HMGET', KEYS[1], 'total', 'available', 'starts', 'ends', 'fenced', 'admit', 'admit_ttl')
if not meta[1] then
  return { CODE.NOT_WARMED }
end
if not meta[6] then
  return { CODE.NO_QUEUE }
end
local now = now_ms()
local queue = redis.call('HMGET', KEYS[2], 'joined', 'admitted', 'lapsed')
local joined, admitted, lapsed = tonumber(queue[1] or '0'), tonumber(queue[2] or '0'), tonumber(queue[3] or '0')
local before = lapsed
local ttl = tonumber(meta[7]) * 1000
while true do
  local head = redis.call('LINDEX', KEYS[3], 0)
  if not head then
    break
  end
  local last, at = string.match(head, '^(%d+):(%d+)$')
  if tonumber(at) + ttl > now then
    break
  end
  lapsed = math.max(lapsed, tonumber(last))
  redis.call('LPOP', KEYS[3])
end

local available = tonumber(meta[2])
local ended = now >= tonumber(meta[4])
local admittedNow = 0
if not meta[5] then
  if available <= 0 then
    if admitted > lapsed then
      lapsed = admitted
      redis.call('DEL', KEYS[3])
    end
  elseif not ended and now >= tonumber(meta[3]) then
    local used = redis.call('ZCOUNT', KEYS[4], lapsed + 1, admitted)
    local room = math.floor(available * tonumber(meta[6]) / 1000) - (admitted - lapsed - used)
    admittedNow = math.max(0, math.min(room, joined - admitted))
    if admittedNow > 0 then
      admitted = admitted + admittedNow
      redis.call('RPUSH', KEYS[3], admitted .. ':' .. now)
    end
  end
end
if lapsed > before then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', lapsed)
end
if admittedNow > 0 or lapsed > before then
  redis.call('HSET', KEYS[2], 'admitted', admitted, 'lapsed', lapsed)
end
local outstanding = admitted - lapsed - redis.call('ZCOUNT', KEYS[4], lapsed + 1, admitted)
return { CODE.DONE, admittedNow, admitted, lapsed, outstanding, available, joined, ended and 1 or 0 }
