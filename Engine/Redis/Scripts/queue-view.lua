-- Everything an Ingress needs to answer a SKU's waiting-room polls from memory, read at one instant. KEYS: 1 meta,
-- 2 queue, 3 queue:waves. Read-only.
-- Reply (C#: SkuScripts.ReadQueueAsync): { NOT_WARMED, nowMs }, or { DONE, nowMs, total, available, startsMs, endsMs,
-- fenced (1/0), admit factor in thousandths (0: open, and nothing more is read), token seconds, joined, admitted, lapsed,
-- then each wave still in the list as "lastSequence:admittedAtMs" }.
local now = now_ms()
local meta = redis.call('HMGET', KEYS[1], 'total', 'available', 'starts', 'ends', 'fenced', 'admit', 'admit_ttl')
if not meta[1] then
  return { CODE.NOT_WARMED, now }
end
local reply = { CODE.DONE, now, tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3]), tonumber(meta[4]),
  meta[5] and 1 or 0, tonumber(meta[6] or '0'), tonumber(meta[7] or '0') }
if not meta[6] then
  return reply
end
local queue = redis.call('HMGET', KEYS[2], 'joined', 'admitted', 'lapsed')
reply[10] = tonumber(queue[1] or '0')
reply[11] = tonumber(queue[2] or '0')
reply[12] = tonumber(queue[3] or '0')
for _, wave in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
  reply[#reply + 1] = wave
end
return reply
