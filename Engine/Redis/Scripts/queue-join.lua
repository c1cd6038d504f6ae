-- A buyer joins a SKU's waiting room. KEYS: 1 meta, 2 queue, 3 queue:tickets. ARGV: 1 userId.
-- Reply (C#: SkuScripts.JoinQueueAsync): { DONE, seq, admitted, lapsed, available } a new ticket; { ALREADY_DONE, … } the
-- buyer's ticket, unchanged (asking again changes nothing); { NOT_WARMED } / { NO_QUEUE } (open SKU) / { CAMPAIGN_ENDED }.
-- A buyer whose ticket lapsed (its admission expired, or was withdrawn at a sell-out) gets a new one at the back.
local meta = redis.call('HMGET', KEYS[1], 'total', 'ends', 'admit', 'available')
if not meta[1] then
  return { CODE.NOT_WARMED }
end
if not meta[3] then
  return { CODE.NO_QUEUE }
end
if now_ms() >= tonumber(meta[2]) then
  return { CODE.CAMPAIGN_ENDED }
end
local queue = redis.call('HMGET', KEYS[2], 'admitted', 'lapsed')
local admitted, lapsed = tonumber(queue[1] or '0'), tonumber(queue[2] or '0')
local available = tonumber(meta[4])
local seq = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
if seq > lapsed then
  return { CODE.ALREADY_DONE, seq, admitted, lapsed, available }
end
seq = redis.call('HINCRBY', KEYS[2], 'joined', 1)
redis.call('HSET', KEYS[3], ARGV[1], seq)
return { CODE.DONE, seq, admitted, lapsed, available }
